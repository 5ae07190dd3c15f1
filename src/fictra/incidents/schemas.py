"""Read models of an incident (API, CLI, console): what the services return."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["IncidentSummary", "IncidentView", "MeetingView", "OutputView", "TaskView"]


class OutputView(BaseModel):
    """One required output of a phase: ``status`` is missing, done or not_required; ``how`` says how to
    provide it while it is missing."""

    key: str
    phase: str
    title: str
    status: str
    text: str | None = None
    source: str | None = None
    recorded_by: str | None = None
    recorded_at: datetime | None = None
    how: str


class TaskView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    title: str
    owner: str
    due_at: datetime
    status: str
    created_by: str
    created_at: datetime
    done_at: datetime | None = None


class MeetingView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    incident_id: int
    starts_at: datetime
    bridge: str
    attendees: list[str]
    agenda: str | None = None
    created_by: str
    created_at: datetime


class IncidentSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    severity: str
    category: str
    phase: str
    status: str
    source: str
    declared_at: datetime
    declared_by: str
    closed_at: datetime | None = None
    commander: str | None = None
    next_update_due: datetime | None = None


class IncidentView(IncidentSummary):
    summary: str | None = None
    scribe: str | None = None
    liaison: str | None = None
    responders: list[str]
    last_update_at: datetime | None = None
    updated_at: datetime
    alert_ids: list[int]
    outputs: list[OutputView]
    missing: list[str]  # keys the current phase still needs before it can be left
    tasks: list[TaskView]
    meetings: list[MeetingView]

    def output(self, key: str) -> OutputView:
        return next(o for o in self.outputs if o.key == key)

    def roles(self) -> dict[str, Any]:
        return {
            "commander": self.commander,
            "scribe": self.scribe,
            "liaison": self.liaison,
            "responders": list(self.responders),
        }
