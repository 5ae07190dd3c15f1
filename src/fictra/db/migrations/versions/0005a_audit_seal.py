"""Audit seals: a keyed tag (HMAC) on every entry and on the head row (fictra.audit.seal).

Revision ID: 0005a_audit_seal
Revises: 0005_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005a_audit_seal"
down_revision = "0005_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entries") as batch:
        batch.add_column(sa.Column("mac", sa.String(64), nullable=True))
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("mac", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("mac")
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_column("mac")
