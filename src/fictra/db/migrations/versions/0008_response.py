"""Alert response: escalation state per alert, escalation steps, SLA breaches, silences, on-call overrides.

Revision ID: 0008_response
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0008_response"
down_revision = "0001_base"
branch_labels = None
depends_on = "0003_alerts"


def _alert_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey("alerts.id", ondelete="CASCADE", name=f"fk_{table}_alert_id_alerts")


def upgrade() -> None:
    op.create_table(
        "alert_response",
        sa.Column("alert_id", sa.Integer(), _alert_fk("alert_response"), primary_key=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("severity", sa.String(2), nullable=False),
        sa.Column("team", sa.String(100), nullable=False),
        sa.Column("policy", sa.String(200), nullable=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("loop", sa.Integer(), nullable=False),
        sa.Column("fired_at", UTCDateTime(), nullable=False),
        sa.Column("ack_deadline", UTCDateTime(), nullable=False),
        sa.Column("resolve_deadline", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("ack_breached", sa.Boolean(), nullable=False),
        sa.Column("resolve_breached", sa.Boolean(), nullable=False),
        sa.Column("next_escalation_at", UTCDateTime(), nullable=True),
        sa.Column("snoozed_until", UTCDateTime(), nullable=True),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("muted_by", sa.Text(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_alert_response_active_next", "alert_response", ["active", "next_escalation_at"])
    op.create_index(
        "ix_alert_response_active_ack", "alert_response", ["active", "ack_breached", "ack_deadline"]
    )
    op.create_index(
        "ix_alert_response_active_resolve",
        "alert_response",
        ["active", "resolve_breached", "resolve_deadline"],
    )
    op.create_table(
        "escalation_steps",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer(), _alert_fk("escalation_steps"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("level_name", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
    )
    op.create_index("ix_escalation_steps_alert_id_id", "escalation_steps", ["alert_id", "id"])
    op.create_table(
        "sla_breaches",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("alert_id", sa.Integer(), _alert_fk("sla_breaches"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(2), nullable=False),
        sa.Column("team", sa.String(100), nullable=False),
        sa.Column("deadline", UTCDateTime(), nullable=False),
        sa.Column("breached_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_sla_breaches_breached_at", "sla_breaches", ["breached_at"])
    op.create_index("ix_sla_breaches_alert_id", "sla_breaches", ["alert_id"])
    op.create_table(
        "silences",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
    )
    op.create_index("ix_silences_ends_at", "silences", ["ends_at"])
    op.create_table(
        "oncall_overrides",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("schedule", sa.String(200), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_oncall_overrides_schedule_ends", "oncall_overrides", ["schedule", "ends_at"])


def downgrade() -> None:
    for table in ("oncall_overrides", "silences", "sla_breaches", "escalation_steps", "alert_response"):
        op.drop_table(table)
