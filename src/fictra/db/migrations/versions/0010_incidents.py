"""Incidents: incidents, linked alerts, phase outputs, timeline events, tasks, evidence, meetings, jobs.

Revision ID: 0010_incidents
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0010_incidents"
down_revision = "0001_base"
branch_labels = None
depends_on = "0003_alerts"


def _incident_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey("incidents.id", ondelete="CASCADE", name=f"fk_{table}_incident_id_incidents")


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "incidents",
        _id(),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(2), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("declared_at", UTCDateTime(), nullable=False),
        sa.Column("declared_by", sa.String(200), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("commander", sa.String(200), nullable=True),
        sa.Column("scribe", sa.String(200), nullable=True),
        sa.Column("liaison", sa.String(200), nullable=True),
        sa.Column("responders", sa.JSON(), nullable=False),
        sa.Column("last_update_at", UTCDateTime(), nullable=True),
        sa.Column("next_update_due", UTCDateTime(), nullable=True),
        sa.Column("reminded_for", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_incidents_status_declared_at", "incidents", ["status", "declared_at"])
    op.create_index("ix_incidents_status_next_update_due", "incidents", ["status", "next_update_due"])
    op.create_table(
        "incident_alerts",
        sa.Column("incident_id", sa.Integer(), _incident_fk("incident_alerts"), primary_key=True),
        sa.Column(
            "alert_id",
            sa.Integer(),
            sa.ForeignKey("alerts.id", ondelete="CASCADE", name="fk_incident_alerts_alert_id_alerts"),
            primary_key=True,
        ),
        sa.Column("linked_at", UTCDateTime(), nullable=False),
        sa.Column("linked_by", sa.String(200), nullable=False),
    )
    op.create_index("ix_incident_alerts_alert_id", "incident_alerts", ["alert_id"])
    op.create_table(
        "incident_outputs",
        _id(),
        sa.Column("incident_id", sa.Integer(), _incident_fk("incident_outputs"), nullable=False),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("incident_id", "key", name="uq_incident_outputs_incident_id_key"),
    )
    op.create_table(
        "incident_events",
        _id(),
        sa.Column("incident_id", sa.Integer(), _incident_fk("incident_events"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("ref", sa.String(200), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_incident_events_incident_id_id", "incident_events", ["incident_id", "id"])
    op.create_table(
        "incident_tasks",
        _id(),
        sa.Column("incident_id", sa.Integer(), _incident_fk("incident_tasks"), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("due_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_incident_tasks_incident_id", "incident_tasks", ["incident_id"])
    op.create_table(
        "incident_evidence",
        _id(),
        sa.Column("incident_id", sa.Integer(), _incident_fk("incident_evidence"), nullable=False),
        sa.Column("collected_at", UTCDateTime(), nullable=False),
        sa.Column("collected_by", sa.String(200), nullable=False),
        sa.Column("trigger", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
    )
    op.create_index("ix_incident_evidence_incident_id", "incident_evidence", ["incident_id"])
    op.create_table(
        "incident_meetings",
        _id(),
        sa.Column("incident_id", sa.Integer(), _incident_fk("incident_meetings"), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("bridge", sa.String(500), nullable=False),
        sa.Column("attendees", sa.JSON(), nullable=False),
        sa.Column("agenda", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_incident_meetings_incident_id", "incident_meetings", ["incident_id"])
    op.create_table(
        "incident_jobs",
        _id(),
        sa.Column("incident_id", sa.Integer(), _incident_fk("incident_jobs"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_index("ix_incident_jobs_done_at_id", "incident_jobs", ["done_at", "id"])


def downgrade() -> None:
    for table in (
        "incident_jobs",
        "incident_meetings",
        "incident_evidence",
        "incident_tasks",
        "incident_events",
        "incident_outputs",
        "incident_alerts",
        "incidents",
    ):
        op.drop_table(table)
