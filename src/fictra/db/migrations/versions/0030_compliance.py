"""Compliance: list versions and entries, screening hits, suppressions, known addresses, KYC records.

Revision ID: 0030_compliance
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0030_compliance"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compliance_list_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file_name", sa.String(300), nullable=False),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("address_count", sa.Integer(), nullable=False),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.Column("superseded_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("list_name", "version", name="uq_compliance_list_versions_name_version"),
    )
    op.create_index("ix_compliance_list_versions_list_name", "compliance_list_versions", ["list_name"])
    op.create_table(
        "compliance_list_entries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "version_id",
            sa.Integer(),
            sa.ForeignKey(
                "compliance_list_versions.id", ondelete="CASCADE", name="fk_compliance_list_entries_version"
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("addresses", sa.JSON(), nullable=False),
        sa.Column("programs", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(32), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
    )
    op.create_index("ix_compliance_list_entries_version_id", "compliance_list_entries", ["version_id"])
    op.create_table(
        "compliance_hits",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("entry_name", sa.String(500), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("block_number", sa.Integer(), nullable=True),
        sa.Column("block_hash", sa.String(66), nullable=True),
        sa.Column("tx_hash", sa.String(66), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("alerted", sa.Boolean(), nullable=False),
        sa.Column("cleared", sa.Boolean(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.Column("closed_by", sa.String(200), nullable=True),
    )
    op.create_index("ix_compliance_hits_subject", "compliance_hits", ["subject"])
    op.create_index("ix_compliance_hits_state", "compliance_hits", ["state"])
    op.create_table(
        "compliance_suppressions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("list_name", sa.String(64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("entry_key", sa.String(200), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint(
            "version_id", "entry_key", "subject", name="uq_compliance_suppressions_version_entry_subject"
        ),
    )
    op.create_table(
        "compliance_addresses",
        sa.Column("address", sa.String(42), primary_key=True),
        sa.Column("first_block", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "compliance_kyc",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("participant", sa.String(200), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("addresses", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("risk_rating", sa.String(16), nullable=False),
        sa.Column("review_due", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("participant", name="uq_compliance_kyc_participant"),
    )
    op.create_index("ix_compliance_kyc_status", "compliance_kyc", ["status"])


def downgrade() -> None:
    for table in (
        "compliance_kyc",
        "compliance_addresses",
        "compliance_suppressions",
        "compliance_hits",
        "compliance_list_entries",
        "compliance_list_versions",
    ):
        op.drop_table(table)
