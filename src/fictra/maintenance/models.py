"""ORM tables of maintenance windows.

``maintenance_windows``: one row per window: its schedule (local start in an IANA zone, duration and an
optional RRULE; emergency windows start now and stay open until ended), its scope (label matchers), its
owner (a person, and the change that owns it when there is one) and its state. ``maintenance_holds``: one
row per alert held by one occurrence of a window (when the hold began, when and how it ended).
``maintenance_events``: what happened in a window (notices, steps, actions, notes, reminders) — the
Maintenance Log is rendered from it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime

__all__ = [
    "HoldOutcome",
    "MaintenanceEvent",
    "MaintenanceHold",
    "MaintenanceWindow",
    "WindowKind",
    "WindowState",
]


class WindowKind(StrEnum):
    SCHEDULED = "scheduled"
    EMERGENCY = "emergency"


class WindowState(StrEnum):
    SCHEDULED = "scheduled"  # waiting for (or between) its occurrences
    ACTIVE = "active"  # an emergency window open, or a one-off window started by hand
    ENDED = "ended"
    CANCELED = "canceled"


OPEN_STATES = (WindowState.SCHEDULED.value, WindowState.ACTIVE.value)


class HoldOutcome(StrEnum):
    HELD = "held"
    RELEASED = "released"  # still firing at the end: notified once
    DROPPED = "dropped"  # cleared during the window: kept, not notified


class MaintenanceWindow(Base):
    __tablename__ = "maintenance_windows"
    __table_args__ = (Index("ix_maintenance_windows_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    local_start: Mapped[str] = mapped_column(String(19))  # wall-clock DTSTART in ``timezone``
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)  # first occurrence (UTC)
    duration_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: open (emergency)
    rrule: Mapped[str | None] = mapped_column(Text, nullable=True)
    matchers: Mapped[list[str]] = mapped_column(JSON)
    scope_key: Mapped[str] = mapped_column(String(2000))  # the sorted matchers: "same scope"
    owner: Mapped[str] = mapped_column(String(200))
    owner_change_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    steps: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MaintenanceHold(Base):
    __tablename__ = "maintenance_holds"
    __table_args__ = (
        UniqueConstraint("window_id", "occurrence", "alert_id", name="uq_maintenance_holds_occurrence_alert"),
        Index("ix_maintenance_holds_outcome", "outcome"),
        Index("ix_maintenance_holds_alert_id", "alert_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("maintenance_windows.id", ondelete="CASCADE"))
    occurrence: Mapped[datetime] = mapped_column(UTCDateTime)  # start of the occurrence that held it
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    held_since: Mapped[datetime] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    held_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)  # SLA deadlines moved by this
    outcome: Mapped[str] = mapped_column(String(16))


class MaintenanceEvent(Base):
    __tablename__ = "maintenance_events"
    __table_args__ = (
        Index("ix_maintenance_events_window_id_id", "window_id", "id"),
        UniqueConstraint("window_id", "key", name="uq_maintenance_events_window_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    window_id: Mapped[int] = mapped_column(ForeignKey("maintenance_windows.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(
        String(32)
    )  # created|notice|started|ended|canceled|step|action|note|...
    key: Mapped[str | None] = mapped_column(String(200), nullable=True)  # once-only events (notices...)
    actor: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
