"""Change management: change requests, their approvals bound to a content hash, steps and events.

Revision ID: 0020_changes
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0020_changes"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_requests",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("requester", sa.String(200), nullable=False),
        sa.Column("implementer", sa.String(200), nullable=True),
        sa.Column("planned_start", UTCDateTime(), nullable=True),
        sa.Column("planned_end", UTCDateTime(), nullable=True),
        sa.Column("verification", sa.JSON(), nullable=False),
        sa.Column("rollback_plan", sa.Text(), nullable=True),
        sa.Column("notify", sa.JSON(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("impact", sa.JSON(), nullable=True),
        sa.Column("risk", sa.JSON(), nullable=True),
        sa.Column("rule", sa.JSON(), nullable=True),
        sa.Column("conflicts", sa.JSON(), nullable=True),
        sa.Column("conflicts_ack", sa.JSON(), nullable=True),
        sa.Column("verification_result", sa.JSON(), nullable=True),
        sa.Column("review", sa.JSON(), nullable=True),
        sa.Column("window_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_change_requests_state", "change_requests", ["state"])
    op.create_table(
        "change_approvals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "change_id", sa.Integer(), sa.ForeignKey("change_requests.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("approver", sa.String(200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("via", sa.String(200), nullable=False),
    )
    op.create_index("ix_change_approvals_change_id", "change_approvals", ["change_id"])
    op.create_table(
        "change_steps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "change_id", sa.Integer(), sa.ForeignKey("change_requests.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("action_kind", sa.String(64), nullable=True),
        sa.Column("action_params", sa.JSON(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("done_by", sa.String(200), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_change_steps_change_id", "change_steps", ["change_id"])
    op.create_table(
        "change_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "change_id", sa.Integer(), sa.ForeignKey("change_requests.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
    )
    op.create_index("ix_change_events_change_id", "change_events", ["change_id"])


def downgrade() -> None:
    for table in ("change_events", "change_steps", "change_approvals", "change_requests"):
        op.drop_table(table)
