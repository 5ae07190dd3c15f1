"""API/console views of the compliance domain (pydantic, read from the ORM rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["CaseView", "HitView", "ImportView", "KycView", "SarView", "VersionDetail", "VersionView"]


class VersionView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    list_name: str
    format: str
    version: int
    sha256: str
    file_name: str
    entry_count: int
    address_count: int
    imported_by: str
    imported_at: datetime
    superseded_at: datetime | None

    @property
    def in_force(self) -> bool:
        return self.superseded_at is None


class VersionDetail(VersionView):
    diff: dict[str, Any]


class HitView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    subject: str
    list_name: str
    version_id: int
    entry_key: str
    entry_name: str
    score: float
    state: str
    evidence: dict[str, Any]
    block_number: int | None
    tx_hash: str | None
    first_seen_at: datetime
    closed_at: datetime | None
    closed_reason: str | None
    closed_by: str | None


class KycView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    participant: str
    name: str
    role: str
    addresses: list[str]
    status: str
    risk_rating: str
    review_due: datetime | None
    expires_at: datetime | None
    documents: list[str]
    country: str | None = None
    updated_by: str
    updated_at: datetime


class ImportView(BaseModel):
    version: VersionView
    diff: dict[str, int]
    rescreen: dict[str, Any]


class CaseView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    subject: str
    state: str
    resolution: str | None
    assignee: str
    hit_ids: list[int]
    alert_ids: list[int]
    notes: list[dict[str, Any]]
    opened_by: str
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class SarView(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    case_id: int
    state: str
    content: dict[str, Any]
    content_hash: str
    drafted_by: str
    drafted_at: datetime
    filed_at: datetime | None
    filed_by: str | None
    filing_reference: str | None
