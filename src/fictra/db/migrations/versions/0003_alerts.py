"""Alerts: the alert store, its timeline, and anomaly baselines.

Revision ID: 0003_alerts
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0003_alerts"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("network", sa.String(64), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("monitor", sa.String(200), nullable=False),
        sa.Column("severity", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("confirmation", sa.String(16), nullable=False),
        sa.Column("required_confirmations", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("history", sa.JSON(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.String(66), nullable=True),
        sa.Column("confirm_at", sa.BigInteger(), nullable=True),
        sa.Column("tx_hashes", sa.JSON(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("fired_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("ack_deadline", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("retraction_reason", sa.Text(), nullable=True),
        sa.UniqueConstraint("network", "fingerprint", name="uq_alerts_network_fingerprint"),
    )
    op.create_index("ix_alerts_status_severity_last_seen", "alerts", ["status", "severity", "last_seen"])
    op.create_index("ix_alerts_last_seen", "alerts", ["last_seen"])
    op.create_index("ix_alerts_pending", "alerts", ["network", "confirmation", "confirm_at"])
    op.create_index("ix_alerts_fingerprint", "alerts", ["fingerprint"])
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "alert_id",
            sa.Integer(),
            sa.ForeignKey("alerts.id", ondelete="CASCADE", name="fk_alert_events_alert_id_alerts"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_alert_events_alert_id_id", "alert_events", ["alert_id", "id"])
    op.create_table(
        "anomaly_baselines",
        sa.Column("monitor", sa.String(200), primary_key=True),
        sa.Column("series", sa.String(300), primary_key=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("anomaly_baselines")
    op.drop_index("ix_alert_events_alert_id_id", table_name="alert_events")
    op.drop_table("alert_events")
    for name in (
        "ix_alerts_fingerprint",
        "ix_alerts_pending",
        "ix_alerts_last_seen",
        "ix_alerts_status_severity_last_seen",
    ):
        op.drop_index(name, table_name="alerts")
    op.drop_table("alerts")
