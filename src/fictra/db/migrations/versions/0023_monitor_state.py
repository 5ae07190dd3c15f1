"""Monitor state snapshots: what block monitors keep in memory, committed with the follower's checkpoint.

Revision ID: 0023_monitor_state
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0023_monitor_state"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitor_state",
        sa.Column("network", sa.String(64), primary_key=True),
        sa.Column("monitor", sa.String(200), primary_key=True),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("monitor_state")
