"""ORM tables of alert response.

``alert_response`` holds one row per alert that ever fired: its SLA deadlines, escalation position and
human state (snooze, assignee, mute reason). ``escalation_steps`` is who was notified when (the
escalation timeline), ``sla_breaches`` every missed deadline, ``silences`` the silences and
``oncall_overrides`` on-call overrides (also the shifts imported from iCalendar).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime


class AlertResponse(Base):
    __tablename__ = "alert_response"
    __table_args__ = (
        Index("ix_alert_response_active_next", "active", "next_escalation_at"),
        Index("ix_alert_response_active_ack", "active", "ack_breached", "ack_deadline"),
        Index("ix_alert_response_active_resolve", "active", "resolve_breached", "resolve_deadline"),
    )

    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)  # firing and not retracted
    severity: Mapped[str] = mapped_column(String(2))
    team: Mapped[str] = mapped_column(String(100))
    policy: Mapped[str | None] = mapped_column(String(200), nullable=True)
    level: Mapped[int] = mapped_column(Integer, default=-1)  # last level notified, -1 none yet
    loop: Mapped[int] = mapped_column(Integer, default=0)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ack_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    resolve_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ack_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    resolve_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    assignee: Mapped[str | None] = mapped_column(String(200), nullable=True)
    muted_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EscalationStep(Base):
    __tablename__ = "escalation_steps"
    __table_args__ = (Index("ix_escalation_steps_alert_id_id", "alert_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    level: Mapped[int] = mapped_column(Integer)
    level_name: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(32))  # fired | timeout | escalate_now | resolve_breach
    people: Mapped[list[str]] = mapped_column(JSON)
    skipped: Mapped[list[str]] = mapped_column(JSON)  # levels passed over (nobody on call / condition)


class SlaBreach(Base):
    __tablename__ = "sla_breaches"
    __table_args__ = (
        Index("ix_sla_breaches_breached_at", "breached_at"),
        Index("ix_sla_breaches_alert_id", "alert_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # acknowledge | resolve
    severity: Mapped[str] = mapped_column(String(2))
    team: Mapped[str] = mapped_column(String(100))
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Silence(Base):
    __tablename__ = "silences"
    __table_args__ = (Index("ix_silences_ends_at", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    matchers: Mapped[list[str]] = mapped_column(JSON)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(64), default="manual")


class OncallOverride(Base):
    __tablename__ = "oncall_overrides"
    __table_args__ = (Index("ix_oncall_overrides_schedule_ends", "schedule", "ends_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule: Mapped[str] = mapped_column(String(200))
    person: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(64))  # manual | ical
    created_by: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class ResponseGroup(Base):
    """One aggregation group of the notification dispatcher (``response.grouping``), persisted in the
    transaction that changed it (the follower checkpoint's, or the tick's), so a crash between two
    batches neither forgets a group nor repeats a flush."""

    __tablename__ = "response_groups"

    group_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of route id + labels
    route_id: Mapped[str] = mapped_column(String(200))
    labels: Mapped[list[list[str]]] = mapped_column(JSON)  # the group labels, as [name, value] pairs
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    next_flush: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_flush: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    changed: Mapped[bool] = mapped_column(Boolean)
    flushes: Mapped[int] = mapped_column(Integer)
    alerts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # GroupedAlert values
    notified: Mapped[list[int]] = mapped_column(JSON)  # alerts a sent notification told as firing
