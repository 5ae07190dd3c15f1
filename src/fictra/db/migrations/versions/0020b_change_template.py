"""Change management: the pre-approved template a standard change names.

Revision ID: 0020b_change_template
Revises: 0020a_change_feedback
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020b_change_template"
down_revision = "0020a_change_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("change_requests") as batch:
        batch.add_column(sa.Column("template", sa.String(128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("change_requests") as batch:
        batch.drop_column("template")
