"""Rolling-window entries of block monitors, one row per block, written with the follower's checkpoint.

Revision ID: 0024_monitor_window
Revises: 0023_monitor_state
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024_monitor_window"
down_revision = "0023_monitor_state"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitor_window",
        sa.Column("network", sa.String(64), primary_key=True),
        sa.Column("monitor", sa.String(200), primary_key=True),
        sa.Column("block_number", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("summary", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("monitor_window")
