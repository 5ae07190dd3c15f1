"""Maintenance windows: windows (schedule, scope, owner), held alerts, window events.

Revision ID: 0021_maintenance
Revises: 0001_base
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from fictra.db.base import UTCDateTime

revision = "0021_maintenance"
down_revision = "0001_base"
branch_labels = None
depends_on = "0003_alerts"


def upgrade() -> None:
    op.create_table(
        "maintenance_windows",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("local_start", sa.String(19), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("rrule", sa.Text(), nullable=True),
        sa.Column("matchers", sa.JSON(), nullable=False),
        sa.Column("scope_key", sa.String(2000), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("owner_change_id", sa.Integer(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
    )
    op.create_index("ix_maintenance_windows_state", "maintenance_windows", ["state"])
    op.create_table(
        "maintenance_holds",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "window_id",
            sa.Integer(),
            sa.ForeignKey(
                "maintenance_windows.id", ondelete="CASCADE", name="fk_maintenance_holds_window_id"
            ),
            nullable=False,
        ),
        sa.Column("occurrence", UTCDateTime(), nullable=False),
        sa.Column(
            "alert_id",
            sa.Integer(),
            sa.ForeignKey("alerts.id", ondelete="CASCADE", name="fk_maintenance_holds_alert_id"),
            nullable=False,
        ),
        sa.Column("held_since", UTCDateTime(), nullable=False),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.Column("held_seconds", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.UniqueConstraint(
            "window_id", "occurrence", "alert_id", name="uq_maintenance_holds_occurrence_alert"
        ),
    )
    op.create_index("ix_maintenance_holds_outcome", "maintenance_holds", ["outcome"])
    op.create_index("ix_maintenance_holds_alert_id", "maintenance_holds", ["alert_id"])
    op.create_table(
        "maintenance_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "window_id",
            sa.Integer(),
            sa.ForeignKey(
                "maintenance_windows.id", ondelete="CASCADE", name="fk_maintenance_events_window_id"
            ),
            nullable=False,
        ),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("key", sa.String(200), nullable=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.UniqueConstraint("window_id", "key", name="uq_maintenance_events_window_key"),
    )
    op.create_index("ix_maintenance_events_window_id_id", "maintenance_events", ["window_id", "id"])


def downgrade() -> None:
    op.drop_table("maintenance_events")
    op.drop_table("maintenance_holds")
    op.drop_table("maintenance_windows")
