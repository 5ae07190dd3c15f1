"""Alert actions (acknowledge, resolve, add note) on SQLite and PostgreSQL: state checks, the timeline
entry and the audit entry commit together; two people acting at once cannot both win."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.alerting import actions
from fictra.alerting.models import Alert, AlertEvent
from fictra.alerting.service import apply_findings
from fictra.audit.models import AuditEntry
from fictra.auth.actor import Actor
from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.errors import ConflictError, NotFoundError, UsageError

from .rig import finding

LEAD = Actor(7, "lena", ("technical_lead",), frozenset({"alerts.acknowledge", "alerts.resolve"}), "session")
OTHER = Actor(8, "omar", ("technical_lead",), frozenset({"alerts.acknowledge"}), "session")


async def _alert(engine: AsyncEngine, clock: FakeClock, i: int = 0) -> int:
    async with session_factory(engine).begin() as db:
        result = await apply_findings(db, [finding(i)], head=500, clock=clock)
    return result.changes[0].alert_id


async def _events(engine: AsyncEngine, alert_id: int) -> list[AlertEvent]:
    async with session_factory(engine)() as db:
        stmt = select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
        return list((await db.execute(stmt)).scalars())


async def _audit(engine: AsyncEngine) -> list[AuditEntry]:
    async with session_factory(engine)() as db:
        return list((await db.execute(select(AuditEntry).order_by(AuditEntry.idx))).scalars())


async def test_acknowledge_writes_alert_timeline_and_audit(engine: AsyncEngine, clock: FakeClock) -> None:
    alert_id = await _alert(engine, clock)
    clock.advance(90)
    async with session_factory(engine).begin() as db:
        alert = await actions.acknowledge(db, alert_id=alert_id, actor=LEAD, clock=clock, note="  looking  ")
        assert alert.acknowledged_by == "lena"
    async with session_factory(engine)() as db:
        stored = await db.get(Alert, alert_id)
        assert stored is not None and stored.acknowledged_at == clock.now() and stored.status == "firing"
    events = await _events(engine, alert_id)
    assert [e.kind for e in events] == ["fired", "acknowledged"]
    assert events[-1].details == {"by": "lena", "note": "looking"}
    (entry,) = await _audit(engine)
    assert (entry.actor, entry.action, entry.target, entry.reason) == (
        "lena",
        "alert.acknowledge",
        f"alert:{alert_id}",
        "looking",
    )
    assert entry.before["acknowledged_by"] is None and entry.after["acknowledged_by"] == "lena"
    with pytest.raises(ConflictError, match="already acknowledged by lena"):
        async with session_factory(engine).begin() as db:
            await actions.acknowledge(db, alert_id=alert_id, actor=OTHER, clock=clock)
    assert len(await _audit(engine)) == 1
    assert len(await _events(engine, alert_id)) == 2


async def test_resolve_then_every_action_but_note_conflicts(engine: AsyncEngine, clock: FakeClock) -> None:
    alert_id = await _alert(engine, clock)
    async with session_factory(engine).begin() as db:
        await actions.resolve(db, alert_id=alert_id, actor=LEAD, clock=clock, note="fixed the feed")
    async with session_factory(engine)() as db:
        stored = await db.get(Alert, alert_id)
        assert stored is not None and stored.status == "resolved" and stored.resolved_at == clock.now()
    for action in (actions.resolve, actions.acknowledge):
        with pytest.raises(ConflictError, match=f"Alert {alert_id} was resolved"):
            async with session_factory(engine).begin() as db:
                await action(db, alert_id=alert_id, actor=LEAD, clock=clock)
    async with session_factory(engine).begin() as db:
        await actions.add_note(db, alert_id=alert_id, actor=OTHER, clock=clock, text="post-mortem on Monday")
    events = await _events(engine, alert_id)
    assert [e.kind for e in events] == ["fired", "resolved", "note"]
    assert events[1].details == {"by": "lena", "manual": True, "note": "fixed the feed"}
    assert [e.action for e in await _audit(engine)] == ["alert.resolve", "alert.note"]
    # the monitor seeing the condition again fires it again
    async with session_factory(engine).begin() as db:
        result = await apply_findings(db, [finding(0)], head=600, clock=clock)
    assert [c.kind.value for c in result.changes] == ["refired"]


async def test_retracted_alert_cannot_be_acknowledged(engine: AsyncEngine, clock: FakeClock) -> None:
    alert_id = await _alert(engine, clock)
    async with session_factory(engine).begin() as db:
        await db.execute(update(Alert).where(Alert.id == alert_id).values(confirmation="retracted"))
    with pytest.raises(ConflictError, match="retracted"):
        async with session_factory(engine).begin() as db:
            await actions.acknowledge(db, alert_id=alert_id, actor=LEAD, clock=clock)


async def test_bad_input_and_missing_alert(engine: AsyncEngine, clock: FakeClock) -> None:
    alert_id = await _alert(engine, clock)
    async with session_factory(engine).begin() as db:
        with pytest.raises(NotFoundError, match="No alert with id 999"):
            await actions.acknowledge(db, alert_id=999, actor=LEAD, clock=clock)
        with pytest.raises(UsageError, match="note is empty"):
            await actions.add_note(db, alert_id=alert_id, actor=LEAD, clock=clock, text="   ")
        with pytest.raises(UsageError, match="at most 4000"):
            await actions.resolve(db, alert_id=alert_id, actor=LEAD, clock=clock, note="x" * 4001)
    assert await _audit(engine) == []
    assert [e.kind for e in await _events(engine, alert_id)] == ["fired"]


async def test_a_failed_transaction_leaves_no_trace(engine: AsyncEngine, clock: FakeClock) -> None:
    alert_id = await _alert(engine, clock)
    with pytest.raises(RuntimeError):
        async with session_factory(engine).begin() as db:
            await actions.acknowledge(db, alert_id=alert_id, actor=LEAD, clock=clock)
            raise RuntimeError("the caller's later step failed")
    async with session_factory(engine)() as db:
        stored = await db.get(Alert, alert_id)
        assert stored is not None and stored.acknowledged_at is None
    assert await _audit(engine) == []
    assert len(await _events(engine, alert_id)) == 1


async def test_two_people_acknowledging_at_once_one_wins(engine: AsyncEngine, clock: FakeClock) -> None:
    alert_id = await _alert(engine, clock)
    sessions = session_factory(engine)

    async def ack(actor: Actor) -> str:
        try:
            async with sessions.begin() as db:
                await actions.acknowledge(db, alert_id=alert_id, actor=actor, clock=clock)
        except ConflictError:
            return "conflict"
        return "ok"

    outcomes = await asyncio.gather(ack(LEAD), ack(OTHER))
    assert sorted(outcomes) == ["conflict", "ok"]
    assert [e.action for e in await _audit(engine)] == ["alert.acknowledge"]
    assert [e.kind for e in await _events(engine, alert_id)] == ["fired", "acknowledged"]
