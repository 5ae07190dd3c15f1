"""Change management: stakeholder feedback on a change (one-time links to a short form).

Revision ID: 0020a_change_feedback
Revises: 0020_changes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0020a_change_feedback"
down_revision = "0020_changes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "change_id",
            sa.Integer(),
            sa.ForeignKey("change_requests.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("stakeholder", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("submitted_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_change_feedback_change_id", "change_feedback", ["change_id"])
    op.create_index("ux_change_feedback_token_hash", "change_feedback", ["token_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_change_feedback_token_hash", table_name="change_feedback")
    op.drop_index("ix_change_feedback_change_id", table_name="change_feedback")
    op.drop_table("change_feedback")
