"""Read models of maintenance windows (API, CLI, console)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class WindowView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    description: str
    kind: str
    state: str
    timezone: str
    local_start: str
    starts_at: datetime
    duration_seconds: int | None
    rrule: str | None
    matchers: list[str]
    owner: str
    owner_change_id: int | None
    steps: list[str]
    created_by: str
    created_at: datetime
    ended_at: datetime | None
    open_now: bool = False
    current_start: datetime | None = None
    current_end: datetime | None = None
    next_start: datetime | None = None


class HoldView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    alert_id: int
    occurrence: datetime
    held_since: datetime
    released_at: datetime | None
    held_seconds: int | None
    outcome: str
    summary: str = ""
    severity: str = ""


class EventView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    kind: str
    actor: str
    text: str
    details: dict[str, Any]


class WindowDetail(BaseModel):
    window: WindowView
    holds: list[HoldView]
    events: list[EventView]
