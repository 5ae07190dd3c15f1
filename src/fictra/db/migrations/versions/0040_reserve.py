"""Reserve: proofs of reserve per processed batch, and the platform's proof-of-reserve feed updates.

Revision ID: 0040_reserve
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0040_reserve"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reserve_proofs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.Column("supply", sa.String(80), nullable=False),
        sa.Column("value", sa.String(80), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=True),
        sa.Column("stale", sa.Integer(), nullable=False),
        sa.Column("assets", sa.JSON(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_reserve_proofs_network_block", "reserve_proofs", ["network", "block_number"])
    op.create_table(
        "reserve_por_updates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("answer", sa.String(80), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("signer", sa.String(42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False, unique=True),
        sa.Column("raw", sa.String(4000), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reserve_por_updates")
    op.drop_index("ix_reserve_proofs_network_block", table_name="reserve_proofs")
    op.drop_table("reserve_proofs")
