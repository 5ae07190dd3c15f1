"""Read models of procedures (API, CLI, console): a run, its steps with evidence, today's procedures."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ProcedureToday", "RunDetail", "RunSummary", "State", "StepView"]

# due: within its grace, no run yet; running: open run within its grace; overdue: open run past its
# deadline (the grace job turns it missed); not_opened: the due time passed its grace without a run
# (e.g. the platform was not running); completed / failed / missed: the run's outcome.
State = Literal["due", "running", "overdue", "not_opened", "completed", "failed", "missed"]


class StepView(BaseModel):
    """One step of a run: its result and evidence (with the SHA-256 the audit log carries), who signed
    off, and from the config the instruction and the roles that may sign (manual steps)."""

    model_config = ConfigDict(from_attributes=True)

    position: int
    name: str
    kind: str
    title: str
    result: str
    summary: str | None = None
    evidence: dict[str, Any] | None = None
    evidence_sha256: str | None = None
    signed_by: str | None = None
    signed_at: datetime | None = None
    note: str | None = None
    updated_at: datetime
    instruction: str | None = None
    signoff_roles: list[str] = Field(default_factory=list)
    agenda: list[str] = Field(default_factory=list)


class RunSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    procedure: str
    title: str
    due_at: datetime
    deadline: datetime
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str
    owner: str
    overdue: bool = False


class RunDetail(RunSummary):
    steps: list[StepView]


class ProcedureToday(BaseModel):
    """A procedure as of now: its current due time (the latest at or before now), the next one, its
    state and the latest run it has (any due time)."""

    name: str
    title: str
    schedule: str
    tz: str
    owner: str
    due_at: datetime
    deadline: datetime
    next_due: datetime
    state: State
    run: RunSummary | None = None
    latest_run: RunSummary | None = None
