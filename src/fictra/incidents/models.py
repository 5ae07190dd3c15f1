"""ORM tables of incident management.

``incidents`` is one row per incident (classification, phase, roles, communication cadence);
``incident_alerts`` links alerts to it; ``incident_outputs`` holds each recorded phase output (one row per
key, re-recording replaces it); ``incident_events`` is the incident's own timeline; ``incident_tasks`` the
corrective actions; ``incident_evidence`` the collected evidence documents with their SHA-256;
``incident_meetings`` emergency meetings; ``incident_jobs`` work queued off the chain follower's
transaction (evidence collection needs RPC calls) and drained by the tick task.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime

__all__ = [
    "Incident",
    "IncidentAlert",
    "IncidentEvent",
    "IncidentEvidence",
    "IncidentJob",
    "IncidentMeeting",
    "IncidentOutput",
    "IncidentTask",
]


def _incident_fk() -> ForeignKey:
    return ForeignKey("incidents.id", ondelete="CASCADE")


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        Index("ix_incidents_status_declared_at", "status", "declared_at"),
        Index("ix_incidents_status_next_update_due", "status", "next_update_due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    severity: Mapped[str] = mapped_column(String(2))
    category: Mapped[str] = mapped_column(String(32))
    phase: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # open | closed
    source: Mapped[str] = mapped_column(String(64))  # manual | auto:<policy>
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime)
    declared_by: Mapped[str] = mapped_column(String(200))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    commander: Mapped[str | None] = mapped_column(String(200), nullable=True)
    scribe: Mapped[str | None] = mapped_column(String(200), nullable=True)
    liaison: Mapped[str | None] = mapped_column(String(200), nullable=True)
    responders: Mapped[list[str]] = mapped_column(JSON)
    last_update_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    next_update_due: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reminded_for: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentAlert(Base):
    __tablename__ = "incident_alerts"
    __table_args__ = (Index("ix_incident_alerts_alert_id", "alert_id"),)

    incident_id: Mapped[int] = mapped_column(_incident_fk(), primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    linked_by: Mapped[str] = mapped_column(String(200))


class IncidentOutput(Base):
    __tablename__ = "incident_outputs"
    __table_args__ = (UniqueConstraint("incident_id", "key", name="uq_incident_outputs_incident_id_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(_incident_fk())
    phase: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # done | not_required
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(
        String(100)
    )  # manual | declaration | roles | update:<id> | action:<id>
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentEvent(Base):
    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident_id_id", "incident_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(_incident_fk())
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class IncidentTask(Base):
    __tablename__ = "incident_tasks"
    __table_args__ = (Index("ix_incident_tasks_incident_id", "incident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(_incident_fk())
    title: Mapped[str] = mapped_column(String(500))
    owner: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # open | done
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class IncidentEvidence(Base):
    __tablename__ = "incident_evidence"
    __table_args__ = (Index("ix_incident_evidence_incident_id", "incident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(_incident_fk())
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    collected_by: Mapped[str] = mapped_column(String(200))
    trigger: Mapped[str] = mapped_column(String(64))  # declaration | on_demand
    sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly the bytes hashed
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


class IncidentMeeting(Base):
    __tablename__ = "incident_meetings"
    __table_args__ = (Index("ix_incident_meetings_incident_id", "incident_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(_incident_fk())
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bridge: Mapped[str] = mapped_column(String(500))
    attendees: Mapped[list[str]] = mapped_column(JSON)
    agenda: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IncidentJob(Base):
    __tablename__ = "incident_jobs"
    __table_args__ = (Index("ix_incident_jobs_done_at_id", "done_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(_incident_fk())
    kind: Mapped[str] = mapped_column(String(32))  # evidence
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
