"""Compliance: regulatory filings per period and regulators' feed items (triage tasks).

Revision ID: 0032_compliance_filings
Revises: 0031_compliance_cases
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0032_compliance_filings"
down_revision = "0031_compliance_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_filings",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("period_label", sa.String(16), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("filed_by", sa.String(200), nullable=False),
        sa.Column("filed_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("name", "period_label", name="uq_compliance_filings_name_period"),
    )
    op.create_table(
        "compliance_feed_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("feed", sa.String(64), nullable=False),
        sa.Column("guid", sa.String(500), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.Column("published", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("triaged_by", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("feed", "guid", name="uq_compliance_feed_items_feed_guid"),
    )
    op.create_index("ix_compliance_feed_items_state", "compliance_feed_items", ["state"])


def downgrade() -> None:
    op.drop_table("compliance_feed_items")
    op.drop_table("compliance_filings")
