"""What the change interfaces (API, CLI, console) need to act: the config section, the clock and the
callables of the other domains (:mod:`fictra.changes.ports`), in one value.

The platform builds one :class:`ChangesContext` (``platform.changes``) with the real callables;
:func:`offline_context` builds one without a platform: the incidents and chain facts are then empty and
on-chain steps cannot be proposed (``wired`` is False; the interfaces say so). :func:`detail` is the read
model of one change the interfaces show: content, steps, approvals, timeline, the state machine and what
the change waits for (each possible action with its missing items).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.changes import machine
from fictra.changes.config import ChangesConfig
from fictra.changes.models import ChangeEvent, ChangeRequest
from fictra.changes.ports import (
    ActionStatus,
    CloseWindow,
    IncidentFact,
    IncidentsOn,
    OpenWindow,
    ProposeAction,
    ReadValues,
)
from fictra.changes.records import approvals_of, facts, load, steps_of, verdict
from fictra.changes.schedule import conflicts_of
from fictra.clock import Clock
from fictra.errors import UsageError

__all__ = ["OFFLINE_NOTE", "ChangesContext", "detail", "list_changes", "offline_context", "summary"]

OFFLINE_NOTE = (
    "not connected to a running platform: open incidents and chain values are not read (empty), and "
    "on-chain steps cannot be proposed"
)


@dataclass(frozen=True)
class ChangesContext:
    """``watched_by``: {component: [monitor/rule names]} (``assess.watchers`` of the config set)."""

    config: ChangesConfig
    clock: Clock
    incidents_on: IncidentsOn
    propose_action: ProposeAction
    read_values: ReadValues
    watched_by: Mapping[str, Sequence[str]] = field(default_factory=dict)
    wired: bool = True
    network: str = ""  # the chain whose metric series the review compares ("" : not measured)
    action_status: ActionStatus | None = None  # on-chain steps' action status (emergency actions)
    open_window: OpenWindow | None = None  # a maintenance window owned by a scheduled change
    close_window: CloseWindow | None = None  # cancel it when the change leaves "scheduled" unstarted
    done_window: CloseWindow | None = None  # its work done when the implementation is over


async def _no_incidents(session: AsyncSession, components: Sequence[str]) -> list[IncidentFact]:
    return []


async def _no_values() -> Mapping[str, Any]:
    return {}


async def _cannot_propose(
    session: AsyncSession, kind: str, params: dict[str, Any], reason: str, change_id: int, actor: object
) -> int:
    raise UsageError(
        f"Cannot propose the {kind} action of change {change_id}: {OFFLINE_NOTE}. Run it from the "
        "console or API of `fictra up`, or propose it with `fictra actions propose` and tick the step."
    )


def offline_context(
    *,
    config: ChangesConfig,
    clock: Clock,
    watched_by: Mapping[str, Sequence[str]] | None = None,
    network: str = "",
) -> ChangesContext:
    """A context without the platform: no incidents, no chain values, no proposals (the metric series in
    the database are read for ``network``)."""
    return ChangesContext(
        config=config,
        clock=clock,
        incidents_on=_no_incidents,
        propose_action=_cannot_propose,
        read_values=_no_values,
        watched_by=dict(watched_by or {}),
        wired=False,
        network=network,
    )


def summary(change: ChangeRequest) -> dict[str, Any]:
    return {
        "id": change.id,
        "title": change.title,
        "type": change.type,
        "category": change.category,
        "template": change.template,
        "state": change.state,
        "components": list(change.components),
        "requester": change.requester,
        "implementer": change.implementer,
        "planned_start": change.planned_start.isoformat() if change.planned_start else None,
        "planned_end": change.planned_end.isoformat() if change.planned_end else None,
        "risk": (change.risk or {}).get("level"),
        "content_hash": change.content_hash,
        "updated_at": change.updated_at.isoformat(),
    }


async def list_changes(
    session: AsyncSession, *, state: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Changes, newest first (optionally in one state)."""
    if state is not None and state not in machine.STATES:
        raise UsageError(f"Unknown change state '{state}'; states: {', '.join(machine.STATES)}.")
    stmt = select(ChangeRequest).order_by(ChangeRequest.id.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(ChangeRequest.state == state)
    return [summary(c) for c in (await session.execute(stmt)).scalars()]


async def detail(
    session: AsyncSession,
    *,
    change_id: int,
    clock: Clock,
    cfg: ChangesConfig | None = None,
    incidents_on: IncidentsOn | None = None,
) -> dict[str, Any]:
    """One change with its steps, approvals, timeline, and what each possible action still needs. With
    ``cfg`` the scheduling conflicts of now are computed too (``conflicts_now``, each marked acknowledged
    or not), and "schedule" waits for an acknowledgement as soon as a new one appears (as
    :func:`fictra.changes.schedule.schedule` checks), not only after the last acknowledgement."""
    change = await load(session, change_id)
    f = await facts(session, change, clock=clock)
    now_conflicts: list[dict[str, Any]] = []
    if cfg is not None and change.planned_start is not None and change.state not in machine.TERMINAL:
        acked = set((change.conflicts_ack or {}).get("texts", []))
        found_now = await conflicts_of(session, cfg=cfg, change=change, incidents_on=incidents_on)
        now_conflicts = [{**c, "acknowledged": c["text"] in acked} for c in found_now]
    unacked_now = any(not c["acknowledged"] for c in now_conflicts)
    waits = []
    for action in dict.fromkeys(machine.actions_from(change.state, change.type)):
        found = machine.find(action, state=change.state, change_type=change.type)
        gaps = machine.missing(found, f) if found is not None else []
        if action == "schedule" and unacked_now and machine.CONFLICTS_TEXT not in gaps:
            gaps.append(machine.CONFLICTS_TEXT)
        target = found.target if found is not None else None
        waits.append({"action": action, "to": target, "possible": not gaps, "missing": gaps})
    approvals = await approvals_of(session, change.id)
    v = verdict(change, approvals, clock=clock)
    events = (
        await session.execute(
            select(ChangeEvent).where(ChangeEvent.change_id == change.id).order_by(ChangeEvent.id)
        )
    ).scalars()
    return {
        **summary(change),
        "description": change.description,
        "notify": list(change.notify),
        "proposal_id": change.proposal_id,
        "verification": list(change.verification),
        "rollback_plan": change.rollback_plan,
        "impact": change.impact,
        "risk_detail": change.risk,
        "rule": change.rule,
        "conflicts": change.conflicts,
        "conflicts_ack": change.conflicts_ack,
        "conflicts_now": now_conflicts if cfg is not None else None,
        "verification_result": change.verification_result,
        "review": change.review,
        "created_at": change.created_at.isoformat(),
        "machine": {
            "states": list(machine.STATES),
            "state": change.state,
            "final": change.state in machine.TERMINAL,
            "next": waits,
        },
        "approval_status": {
            "satisfied": bool(v and v.satisfied),
            "missing": list(f.approvals_missing),
        },
        "approvals": [
            {
                "approver": a.approver,
                "roles": list(a.roles),
                "content_hash": a.params_hash,
                "current": a.params_hash == change.content_hash,
                "approved_at": a.approved_at.isoformat(),
                "expires_at": a.expires_at.isoformat(),
            }
            for a in approvals
        ],
        "steps": [
            {
                "phase": s.phase,
                "position": s.position,
                "text": s.text,
                "action_kind": s.action_kind,
                "action_params": s.action_params,
                "action_id": s.action_id,
                "done_by": s.done_by,
                "done_at": s.done_at.isoformat() if s.done_at else None,
                "note": s.note,
            }
            for s in await steps_of(session, change.id)
        ],
        "events": [
            {"at": e.at.isoformat(), "actor": e.actor, "kind": e.kind, "text": e.text} for e in events
        ],
    }
