"""Compliance: transfers seen by the screening monitor (for the periodic transaction reports), KYC country,
filing drafts generated from their template with their approvals.

Revision ID: 0033_compliance_reports
Revises: 0032_compliance_filings
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0033_compliance_reports"
down_revision = "0032_compliance_filings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_transfers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("block_number", sa.Integer(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("sender", sa.String(42), nullable=False),
        sa.Column("recipient", sa.String(42), nullable=False),
        sa.Column("value", sa.String(80), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_compliance_transfers_at", "compliance_transfers", ["at"])
    op.create_index("ix_compliance_transfers_block_number", "compliance_transfers", ["block_number"])
    with op.batch_alter_table("compliance_kyc") as batch:
        batch.add_column(sa.Column("country", sa.String(2), nullable=True))
    op.create_table(
        "compliance_filing_drafts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("period_label", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("generated_by", sa.String(200), nullable=False),
        sa.Column("generated_at", UTCDateTime(), nullable=False),
        sa.Column("reviewed_by", sa.String(200), nullable=True),
        sa.Column("reviewed_at", UTCDateTime(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("reference", sa.Text(), nullable=True),
        sa.Column("filed_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_compliance_filing_drafts_name", "compliance_filing_drafts", ["name", "period_label"])
    op.create_table(
        "compliance_filing_approvals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "draft_id",
            sa.Integer(),
            sa.ForeignKey(
                "compliance_filing_drafts.id", ondelete="CASCADE", name="fk_compliance_filing_approvals_draft"
            ),
            nullable=False,
        ),
        sa.Column("approver", sa.String(200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("via", sa.String(200), nullable=False),
    )
    op.create_index("ix_compliance_filing_approvals_draft_id", "compliance_filing_approvals", ["draft_id"])


def downgrade() -> None:
    op.drop_table("compliance_filing_approvals")
    op.drop_table("compliance_filing_drafts")
    with op.batch_alter_table("compliance_kyc") as batch:
        batch.drop_column("country")
    op.drop_table("compliance_transfers")
