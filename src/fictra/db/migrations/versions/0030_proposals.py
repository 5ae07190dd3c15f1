"""Governance proposals: proposals followed from the chain, their events and their links to changes.

Revision ID: 0030_proposals
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0030_proposals"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gov_proposals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("proposal_id", sa.String(80), nullable=False),
        sa.Column("governor", sa.String(42), nullable=False),
        sa.Column("proposer", sa.String(42), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("calls", sa.JSON(), nullable=False),
        sa.Column("risk", sa.String(8), nullable=False),
        sa.Column("risk_reasons", sa.JSON(), nullable=False),
        sa.Column("vote_start", sa.BigInteger(), nullable=False),
        sa.Column("vote_end", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("votes", sa.JSON(), nullable=False),
        sa.Column("created_block", sa.BigInteger(), nullable=False),
        sa.Column("created_tx", sa.String(66), nullable=False),
        sa.Column("eta", sa.BigInteger(), nullable=True),
        sa.Column("executed_block", sa.BigInteger(), nullable=True),
        sa.Column("alerted", sa.Boolean(), nullable=False),
        sa.Column("simulation", sa.JSON(), nullable=True),
        sa.Column("signoffs", sa.JSON(), nullable=False),
        sa.Column("verification", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("network", "proposal_id", name="uq_gov_proposals_network_pid"),
    )
    op.create_index("ix_gov_proposals_status", "gov_proposals", ["status"])
    op.create_table(
        "gov_proposal_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "proposal", sa.Integer(), sa.ForeignKey("gov_proposals.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
    )
    op.create_index("ix_gov_proposal_events_proposal", "gov_proposal_events", ["proposal"])
    op.create_index("ix_gov_proposal_events_block", "gov_proposal_events", ["network", "block_number"])
    op.create_table(
        "gov_proposal_links",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "proposal", sa.Integer(), sa.ForeignKey("gov_proposals.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("change_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", sa.String(200), nullable=False),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("proposal", "change_id", name="uq_gov_proposal_links"),
    )


def downgrade() -> None:
    op.drop_table("gov_proposal_links")
    op.drop_index("ix_gov_proposal_events_block", table_name="gov_proposal_events")
    op.drop_index("ix_gov_proposal_events_proposal", table_name="gov_proposal_events")
    op.drop_table("gov_proposal_events")
    op.drop_index("ix_gov_proposals_status", table_name="gov_proposals")
    op.drop_table("gov_proposals")
