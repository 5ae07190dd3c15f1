"""Scheduling with conflict detection: another change on the same component in an overlapping slot, a
slot outside every allowed window, inside a freeze period, or during an open P0/P1 incident on a
component. Conflicts are listed; an approver acknowledges them (the acknowledgement names the exact
conflicts seen, so a new conflict needs a new acknowledgement), then the change can be scheduled.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name
from fictra.changes.config import ChangesConfig
from fictra.changes.models import ChangeRequest
from fictra.changes.ports import IncidentsOn
from fictra.changes.records import event, load, rule_of
from fictra.changes.service import ChangeRefused, roles_of, transition
from fictra.changes.windows import freezes_hit, outside_windows
from fictra.clock import Clock
from fictra.errors import PermissionDeniedError, UsageError

__all__ = ["acknowledge", "conflicts_of", "schedule"]

BUSY = ("authorization", "scheduled", "implementing")


async def conflicts_of(
    session: AsyncSession, *, cfg: ChangesConfig, change: ChangeRequest, incidents_on: IncidentsOn | None
) -> list[dict[str, Any]]:
    """Every conflict of the change's planned slot, each ``{"kind", "text"}`` (text is its identity)."""
    start, end = change.planned_start, change.planned_end
    if start is None or end is None:
        raise UsageError(f"Change {change.id} has no planned start and end; set them to check conflicts.")
    out: list[dict[str, Any]] = []
    mine = set(change.components)
    stmt = select(ChangeRequest).where(ChangeRequest.state.in_(BUSY), ChangeRequest.id != change.id)
    for other in (await session.execute(stmt.order_by(ChangeRequest.id))).scalars():
        shared = sorted(mine & set(other.components))
        if not shared or other.planned_start is None or other.planned_end is None:
            continue
        if other.planned_start < end and start < other.planned_end:
            out.append({
                "kind": "overlap", "change_id": other.id,
                "text": f"change {other.id} ({other.title}) on {', '.join(shared)} from "
                f"{other.planned_start.isoformat()} to {other.planned_end.isoformat()}",
            })  # fmt: skip
    if outside_windows(cfg, start, end):
        out.append({"kind": "window", "text": "outside every allowed change window"})
    for text in freezes_hit(cfg, start, end):
        out.append({"kind": "freeze", "text": text})
    if incidents_on is not None and mine:
        for inc in await incidents_on(session, sorted(mine)):
            if inc.severity in ("P0", "P1"):
                out.append({
                    "kind": "incident", "incident_id": inc.id,
                    "text": f"open {inc.severity} incident {inc.id} ({inc.title}) on "
                    f"{', '.join(sorted(set(inc.components) & mine)) or 'the components'}",
                })  # fmt: skip
    return out


def _ack_roles(cfg: ChangesConfig, change: ChangeRequest) -> set[str]:
    rule = rule_of(change)
    if rule is not None:
        return set(rule.roles)
    return {r for by_risk in cfg.approvals.values() for rc in by_risk.values() for r in rc.roles}


async def acknowledge(
    session: AsyncSession,
    *,
    cfg: ChangesConfig,
    change_id: int,
    incidents_on: IncidentsOn | None,
    actor: object,
    clock: Clock,
    note: str | None = None,
) -> ChangeRequest:
    """An approver acknowledges the conflicts as they are now (computed afresh and stored)."""
    change = await load(session, change_id, lock=True)
    allowed = _ack_roles(cfg, change)
    if not set(roles_of(actor)) & allowed:
        raise PermissionDeniedError(
            f"'{actor_name(actor)}' cannot acknowledge conflicts of change {change_id}: it takes one of "
            f"{', '.join(sorted(allowed))}."
        )
    found = await conflicts_of(session, cfg=cfg, change=change, incidents_on=incidents_on)
    change.conflicts = found
    change.conflicts_ack = {
        "by": actor_name(actor), "at": clock.now().isoformat(), "texts": [c["text"] for c in found],
        "note": note,
    }  # fmt: skip
    await event(
        session, change, kind="conflicts_acknowledged", actor=actor, clock=clock,
        text=f"{actor_name(actor)} acknowledged {len(found)} conflict(s)" + (f": {note}" if note else ""),
        details={"conflicts": found},
    )  # fmt: skip
    return change


async def schedule(
    session: AsyncSession,
    *,
    cfg: ChangesConfig,
    change_id: int,
    incidents_on: IncidentsOn | None,
    actor: object,
    clock: Clock,
) -> ChangeRequest:
    """Check the conflicts now and schedule the change when every one was acknowledged."""
    change = await load(session, change_id, lock=True)
    found = await conflicts_of(session, cfg=cfg, change=change, incidents_on=incidents_on)
    acked = set((change.conflicts_ack or {}).get("texts", []))
    new = [c["text"] for c in found if c["text"] not in acked]
    if new:
        raise ChangeRefused(
            f"Change {change_id} cannot be scheduled: {len(new)} conflict(s) not acknowledged by an "
            f"approver: " + "; ".join(new) + "."
        )
    change.conflicts = found
    return await transition(
        session, cfg=cfg, change_id=change_id, action="schedule", actor=actor, clock=clock
    )
