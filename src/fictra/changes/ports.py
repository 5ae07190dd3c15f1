"""What change management needs from other domains, as callables the integrator passes in
(``platform.domains``); this package imports no sibling domain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = [
    "ActionState", "ActionStates", "ActionStatus", "CloseWindow", "IncidentFact", "IncidentsOn", "OpenWindow",
    "ProposeAction", "ReadValues", "WindowRequest",
]  # fmt: skip


@dataclass(frozen=True)
class IncidentFact:
    """An open incident touching a component (from the incidents domain)."""

    id: int
    severity: str  # P0..P3
    title: str
    components: tuple[str, ...]


# open incidents on any of the components
IncidentsOn = Callable[[AsyncSession, Sequence[str]], Awaitable[list[IncidentFact]]]


@dataclass(frozen=True)
class ActionState:
    id: int
    kind: str
    status: str  # proposed, approved, executing, scheduled, verified, failed, cancelled...


# propose an emergency action for a change step: (session, kind, params, reason, change_id, actor) -> id
ProposeAction = Callable[[AsyncSession, str, dict[str, Any], str, int, object], Awaitable[int]]
# the current state of emergency actions by id
ActionStates = Callable[[AsyncSession, Sequence[int]], Awaitable[Mapping[int, ActionState]]]
# read named chain values for verification (e.g. {"pt_fee_bps": 25})
ReadValues = Callable[[], Awaitable[Mapping[str, Any]]]
# the status of emergency actions by id (for the change-request document)
ActionStatus = Callable[[AsyncSession, Sequence[int]], Awaitable[Mapping[int, str]]]


@dataclass(frozen=True)
class WindowRequest:
    """A maintenance window for a scheduled change: its slot, scope (label matchers) and owner."""

    change_id: int
    title: str
    starts_at: datetime
    ends_at: datetime
    matchers: tuple[str, ...]
    owner: str
    steps: tuple[str, ...]


# open a maintenance window owned by a change (the maintenance domain); returns the window id
OpenWindow = Callable[[AsyncSession, WindowRequest, object], Awaitable[int]]
# cancel it (the change was edited back to authorization, or canceled); or mark its work done (the
# implementation is over: no overrun reminder; the window still ends at its planned end)
# (session, window_id, change_id, reason, actor): only the window's owning change acts on it
CloseWindow = Callable[[AsyncSession, int, int, str, object], Awaitable[None]]
