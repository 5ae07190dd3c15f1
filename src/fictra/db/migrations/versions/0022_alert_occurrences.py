"""Alert occurrences: every occurrence of an alert written once (block, transactions, evidence), so a
re-fire never rewrites history and a reorg retracts exactly the occurrences it removed; the alert's latest
occurrence key (an inbound alert's startsAt).

Revision ID: 0022_alert_occurrences
Revises: 0003_alerts
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0022_alert_occurrences"
down_revision = "0003_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("occurrence_key", sa.String(100), nullable=True))
    op.create_table(
        "alert_occurrences",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("severity", sa.String(2), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(66), nullable=True),
        sa.Column("tx_hashes", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("occurrence_key", sa.String(100), nullable=True),
        sa.Column("retracted_at", UTCDateTime(), nullable=True),
        sa.Column("retraction_reason", sa.Text(), nullable=True),
    )
    op.create_index("ix_alert_occurrences_alert_id_id", "alert_occurrences", ["alert_id", "id"])
    op.create_index("ix_alert_occurrences_network_block", "alert_occurrences", ["network", "block_number"])


def downgrade() -> None:
    op.drop_index("ix_alert_occurrences_network_block", table_name="alert_occurrences")
    op.drop_index("ix_alert_occurrences_alert_id_id", table_name="alert_occurrences")
    op.drop_table("alert_occurrences")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("occurrence_key")
