"""Read models of the alert store (what the CLI and the API show)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AlertView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    network: str
    fingerprint: str
    monitor: str
    severity: str
    status: str
    confirmation: str
    required_confirmations: int
    summary: str
    labels: dict[str, str]
    evidence: dict[str, Any]
    block_number: int | None
    block_hash: str | None
    tx_hashes: list[str]
    count: int
    first_seen: datetime
    last_seen: datetime
    fired_at: datetime
    resolved_at: datetime | None
    ack_deadline: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    retraction_reason: str | None


class AlertEventView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    at: datetime
    details: dict[str, Any]


class OccurrenceView(BaseModel):
    """One occurrence as written when it happened (only ``retracted_at``/``retraction_reason`` change)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    alert_id: int
    kind: str
    at: datetime
    severity: str
    summary: str
    block_number: int | None
    block_hash: str | None
    tx_hashes: list[str]
    evidence: dict[str, Any]
    occurrence_key: str | None
    retracted_at: datetime | None
    retraction_reason: str | None


class AlertDetail(AlertView):
    history: list[dict[str, Any]]
    events: list[AlertEventView]
    occurrences: list[OccurrenceView] = []  # the most recent (OCCURRENCES_SHOWN), oldest first
