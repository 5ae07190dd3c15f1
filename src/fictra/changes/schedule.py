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
from fictra.changes.ports import IncidentsOn, OpenWindow, WindowRequest
from fictra.changes.records import event, load, rule_of, steps_of
from fictra.changes.service import ChangeRefused, roles_of, transition
from fictra.changes.windows import freezes_hit, outside_windows
from fictra.clock import Clock
from fictra.errors import PermissionDeniedError, UsageError

__all__ = ["acknowledge", "conflicts_of", "schedule", "window_scopes"]

# the alert label naming a component of each catalogue kind (rules and contract monitors: ``contract``)
SCOPE_LABEL = {
    "contract": "contract",
    "endpoint": "endpoint",
    "platform": "component",
    "integration": "integration",
}

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
    open_window: OpenWindow | None = None,
) -> ChangeRequest:
    """Check the conflicts now and schedule the change when every one was acknowledged; with
    ``open_window``, open the change's maintenance window(s) for its slot in the same transaction (a
    window refused, e.g. overlapping one with the same scope, refuses the scheduling)."""
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
    change = await transition(
        session, cfg=cfg, change_id=change_id, action="schedule", actor=actor, clock=clock
    )
    if open_window is not None and change.components and change.planned_start and change.planned_end:
        await _open_windows(session, cfg, change, open_window, actor, clock)
    return change


def window_scopes(cfg: ChangesConfig, components: list[str]) -> list[tuple[str, ...]]:
    """One scope (label matchers) per catalogue kind among ``components``: e.g.
    ``('contract=~"PaymentToken|Reserve"',)`` (the alert label that names a component of that kind)."""
    by_label: dict[str, list[str]] = {}
    for name in components:
        comp = cfg.components.get(name)
        label = SCOPE_LABEL.get(comp.kind if comp else "platform", "component")
        by_label.setdefault(label, []).append(name)
    return [
        (f'{label}=~"{"|".join(n.replace(".", "[.]") for n in sorted(names))}"',)
        for label, names in sorted(by_label.items())
    ]


async def _open_windows(
    session: AsyncSession, cfg: ChangesConfig, change: ChangeRequest, open_window: OpenWindow, actor: object,
    clock: Clock,
) -> None:  # fmt: skip
    """The change's maintenance window(s): its slot, scoped to its components, owned by it; the alerts
    they raise during the slot are held (the maintenance domain does the holding)."""
    if change.planned_start is None or change.planned_end is None:
        return
    steps = tuple(s.text for s in await steps_of(session, change.id, phase="implement"))
    ids = []
    for scope in window_scopes(cfg, list(change.components)):
        request = WindowRequest(
            change_id=change.id, title=f"Change #{change.id}: {change.title}"[:300],
            starts_at=change.planned_start, ends_at=change.planned_end, matchers=scope,
            owner=change.implementer or change.requester, steps=steps,
        )  # fmt: skip
        ids.append(await open_window(session, request, actor))
    change.window_id = ids[0] if ids else None
    await event(
        session, change, kind="window_opened", actor=actor, clock=clock,
        text=f"maintenance window(s) {', '.join(map(str, ids))} scheduled for the slot (alerts on "
        f"{', '.join(change.components)} held while it is open)",
        details={"windows": ids},
    )  # fmt: skip
