"""Aggregation groups in the database: each transaction that touches groups loads them, lets the
:class:`~fictra.response.grouping.Dispatcher` work on them and writes them back before it commits.

The response pipeline runs in the alert store's transaction (the follower checkpoint's), the tick in its
own; so a group's alerts, timers, flush count and notified set commit together with the alert changes
that filled it and with the outbox rows of its flushes. A kill -9 between two batches loses nothing and
repeats nothing: the restarted follower replays the uncommitted batch against the committed groups, and
the outcome (the outbox rows) is the one of a run without the crash. No group lives only in memory.

The transaction takes a lock first (:func:`lock`: an advisory lock on PostgreSQL, SQLite's write lock),
so the follower and the tick never work on the same groups at once (one waits for the other's commit).
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.response.config import Route
from fictra.response.grouping import AggrGroup, Dispatcher, GroupedAlert
from fictra.response.models import ResponseGroup
from fictra.response.routing import route_by_id

_LOCK = 0x66726770  # "frgp": the groups' advisory lock on PostgreSQL


def group_id(route_id: str, key: tuple[tuple[str, str], ...]) -> str:
    return hashlib.sha256(json.dumps([route_id, [list(p) for p in key]]).encode()).hexdigest()


def _alert_json(alert: GroupedAlert) -> dict[str, Any]:
    return {
        "alert_id": alert.alert_id,
        "labels": dict(alert.labels),
        "firing": alert.firing,
        "summary": alert.summary,
        "severity": alert.severity,
        "deadline": alert.deadline.isoformat() if alert.deadline is not None else None,
        "evidence": alert.evidence,
    }


def _alert(raw: dict[str, Any]) -> GroupedAlert:
    deadline = raw.get("deadline")
    return GroupedAlert(
        int(raw["alert_id"]),
        {str(k): str(v) for k, v in raw["labels"].items()},
        bool(raw["firing"]),
        str(raw["summary"]),
        str(raw["severity"]),
        deadline=datetime.fromisoformat(deadline) if deadline else None,
        evidence=dict(raw.get("evidence") or {}),
    )


async def lock(session: AsyncSession) -> None:
    """The groups' lock until the transaction ends (taking it again is a no-op). The tick
    takes it before it updates ``alert_response`` rows and the follower before its escalation stage
    does, so the two never wait on each other in a cycle."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    elif dialect == "sqlite":  # a write statement begins the transaction and takes the write lock now:
        # the driver begins one only at the first write, so the groups read next could be stale by then
        await session.execute(text("UPDATE response_groups SET flushes = flushes WHERE 1 = 0"))


async def load(session: AsyncSession, root: Route) -> Dispatcher:
    """The committed groups (locked for this transaction on PostgreSQL). A group whose route is gone
    from the routing tree (the config changed) is dropped when the dispatcher is saved."""
    await lock(session)
    dispatcher = Dispatcher()
    rows = (
        await session.execute(select(ResponseGroup).order_by(ResponseGroup.created, ResponseGroup.group_id))
    ).scalars()
    for row in rows:
        dispatcher.stored.add(row.group_id)
        opts = route_by_id(root, row.route_id)
        if opts is None:
            continue
        key = tuple((str(k), str(v)) for k, v in row.labels)
        alerts = [_alert(a) for a in row.alerts]
        dispatcher.groups[(row.route_id, key)] = AggrGroup(
            opts,
            key,
            row.created,
            alerts={a.alert_id: a for a in alerts},
            next_flush=row.next_flush,
            last_flush=row.last_flush,
            changed=row.changed,
            flushes=row.flushes,
            notified=set(row.notified),
        )
    return dispatcher


async def save(session: AsyncSession, dispatcher: Dispatcher) -> None:
    """Write every group back and delete the rows of groups that ended, in the caller's transaction."""
    live: set[str] = set()
    for (route_id, key), group in dispatcher.groups.items():
        gid = group_id(route_id, key)
        live.add(gid)
        values: dict[str, Any] = {
            "route_id": route_id,
            "labels": [list(p) for p in key],
            "created": group.created,
            "next_flush": group.next_flush,
            "last_flush": group.last_flush,
            "changed": group.changed,
            "flushes": group.flushes,
            "alerts": [_alert_json(a) for a in sorted(group.alerts.values(), key=lambda a: a.alert_id)],
            "notified": sorted(group.notified),
        }
        row = await session.get(ResponseGroup, gid) if gid in dispatcher.stored else None
        if row is None:
            session.add(ResponseGroup(group_id=gid, **values))
            continue
        for name, value in values.items():
            if getattr(row, name) != value:
                setattr(row, name, value)
    for gid in dispatcher.stored - live:
        row = await session.get(ResponseGroup, gid)
        if row is not None:
            await session.delete(row)
    await session.flush()
    dispatcher.stored = live
