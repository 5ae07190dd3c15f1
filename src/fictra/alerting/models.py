"""ORM tables of the alert store: ``alerts`` (one row per condition), ``alert_events`` (its timeline) and
``alert_occurrences`` (every occurrence, written once: its block, transactions and evidence).

The anomaly baselines' table lives in :mod:`fictra.monitors.models` and is imported here so that one
import line in :mod:`fictra.db.models` registers every table this domain owns.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime

__all__ = ["Alert", "AlertEvent", "AlertOccurrence", "AlertStatus", "Confirmation", "EventKind"]


class AlertStatus(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"


class Confirmation(StrEnum):
    PROVISIONAL = "provisional"
    CONFIRMED = "confirmed"
    RETRACTED = "retracted"


class EventKind(StrEnum):
    FIRED = "fired"
    REFIRED = "refired"
    RESOLVED = "resolved"
    CONFIRMED = "confirmed"
    RETRACTED = "retracted"
    PARTLY_RETRACTED = "partly_retracted"  # some occurrences retracted, the alert stands
    REPEATED = "repeated"  # a new occurrence of a firing one-off event whose rule notifies repeats


class Alert(Base):
    """The stateful record of one fingerprint. ``block_number``/``block_hash`` anchor the current
    confirmation episode (the first occurrence since it fired); ``confirm_at`` is the head at which
    that block has the required confirmations. ``evidence`` is the latest occurrence's evidence and
    ``history`` a bounded list of recent occurrences."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("network", "fingerprint", name="uq_alerts_network_fingerprint"),
        Index("ix_alerts_status_severity_last_seen", "status", "severity", "last_seen"),
        Index("ix_alerts_last_seen", "last_seen"),
        Index("ix_alerts_pending", "network", "confirmation", "confirm_at"),
        Index("ix_alerts_fingerprint", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    network: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str] = mapped_column(String(64))
    monitor: Mapped[str] = mapped_column(String(200))
    severity: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16))
    confirmation: Mapped[str] = mapped_column(String(16))
    required_confirmations: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str] = mapped_column(Text)
    labels: Mapped[dict[str, str]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    history: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    confirm_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tx_hashes: Mapped[list[str]] = mapped_column(JSON)
    count: Mapped[int] = mapped_column(BigInteger)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ack_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    retraction_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the latest occurrence's key (an inbound alert's startsAt): a delivery with the same key is a repeat
    occurrence_key: Mapped[str | None] = mapped_column(String(100), nullable=True, default=None)


class AlertEvent(Base):
    """One step of an alert's timeline: fired, refired, resolved, confirmed, retracted."""

    __tablename__ = "alert_events"
    __table_args__ = (Index("ix_alert_events_alert_id_id", "alert_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class AlertOccurrence(Base):
    """One occurrence of an alert's condition, written once and never updated except to mark it
    retracted (its block left the chain). ``kind`` is fired/refired for the first occurrence of an
    episode, ``repeat`` for the others."""

    __tablename__ = "alert_occurrences"
    __table_args__ = (
        Index("ix_alert_occurrences_alert_id_id", "alert_id", "id"),
        Index("ix_alert_occurrences_network_block", "network", "block_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    severity: Mapped[str] = mapped_column(String(2))
    summary: Mapped[str] = mapped_column(Text)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    tx_hashes: Mapped[list[str]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurrence_key: Mapped[str | None] = mapped_column(String(100), nullable=True)
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retraction_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
