"""Chain follower: checkpoint, recent block hashes, reorgs.

Revision ID: 0002_chain
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0002_chain"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_checkpoint",
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(66), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("network", name=op.f("pk_chain_checkpoint")),
    )
    op.create_table(
        "chain_block_hash",
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(66), nullable=False),
        sa.Column("parent_hash", sa.String(66), nullable=False),
        sa.PrimaryKeyConstraint("network", "number", name=op.f("pk_chain_block_hash")),
    )
    op.create_table(
        "chain_reorg",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("common_ancestor", sa.BigInteger(), nullable=False),
        sa.Column("old_hashes", sa.JSON(), nullable=False),
        sa.Column("new_hashes", sa.JSON(), nullable=False),
        sa.Column("detected_at_block", sa.BigInteger(), nullable=False),
        sa.Column("detected_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_reorg")),
    )
    op.create_index(op.f("ix_chain_reorg_network"), "chain_reorg", ["network"])


def downgrade() -> None:
    op.drop_index(op.f("ix_chain_reorg_network"), table_name="chain_reorg")
    op.drop_table("chain_reorg")
    op.drop_table("chain_block_hash")
    op.drop_table("chain_checkpoint")
