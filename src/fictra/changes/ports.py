"""What change management needs from other domains, as callables the integrator passes in
(``platform.domains``); this package imports no sibling domain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["ActionState", "ActionStates", "IncidentFact", "IncidentsOn", "ProposeAction", "ReadValues"]


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
