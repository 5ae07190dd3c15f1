"""API/console views of the compliance domain (pydantic, read from the ORM rows)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["HitView", "ImportView", "KycView", "VersionDetail", "VersionView"]


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
    updated_by: str
    updated_at: datetime


class ImportView(BaseModel):
    version: VersionView
    diff: dict[str, int]
    rescreen: dict[str, Any]
