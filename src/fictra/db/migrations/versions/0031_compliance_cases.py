"""Compliance cases, suspicious activity reports and their approvals.

Revision ID: 0031_compliance_cases
Revises: 0030_compliance
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0031_compliance_cases"
down_revision = "0030_compliance"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_cases",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("resolution", sa.String(16), nullable=True),
        sa.Column("assignee", sa.String(200), nullable=False),
        sa.Column("hit_ids", sa.JSON(), nullable=False),
        sa.Column("alert_ids", sa.JSON(), nullable=False),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_compliance_cases_subject", "compliance_cases", ["subject"])
    op.create_index("ix_compliance_cases_state", "compliance_cases", ["state"])
    op.create_table(
        "compliance_sars",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("compliance_cases.id", ondelete="CASCADE", name="fk_compliance_sars_case"),
            nullable=False,
        ),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("drafted_by", sa.String(200), nullable=False),
        sa.Column("drafted_at", UTCDateTime(), nullable=False),
        sa.Column("filed_at", UTCDateTime(), nullable=True),
        sa.Column("filed_by", sa.String(200), nullable=True),
        sa.Column("filing_reference", sa.Text(), nullable=True),
    )
    op.create_index("ix_compliance_sars_case_id", "compliance_sars", ["case_id"])
    op.create_table(
        "compliance_sar_approvals",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "sar_id",
            sa.Integer(),
            sa.ForeignKey("compliance_sars.id", ondelete="CASCADE", name="fk_compliance_sar_approvals_sar"),
            nullable=False,
        ),
        sa.Column("approver", sa.String(200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("approved_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("via", sa.String(200), nullable=False),
    )
    op.create_index("ix_compliance_sar_approvals_sar_id", "compliance_sar_approvals", ["sar_id"])


def downgrade() -> None:
    for table in ("compliance_sar_approvals", "compliance_sars", "compliance_cases"):
        op.drop_table(table)
