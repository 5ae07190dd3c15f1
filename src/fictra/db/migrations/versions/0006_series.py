"""Metric series for charts: per-block samples.

Revision ID: 0006_series
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_series"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "series_samples",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("t", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
    )
    op.create_index("ix_series_samples_network_name_t", "series_samples", ["network", "name", "t"])
    op.create_index("ix_series_samples_network_block", "series_samples", ["network", "block_number"])


def downgrade() -> None:
    op.drop_index("ix_series_samples_network_block", table_name="series_samples")
    op.drop_index("ix_series_samples_network_name_t", table_name="series_samples")
    op.drop_table("series_samples")
