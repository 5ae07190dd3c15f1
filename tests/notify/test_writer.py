"""The inbound writer: concurrent requests, order within a batch, and races with another process."""

from __future__ import annotations

import asyncio

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fictra.alerting.findings import Clear, Finding, Severity
from fictra.alerting.models import Alert
from fictra.alerting.service import AlertChange
from fictra.clock import FakeClock
from fictra.notify.writer import InboundWriter


def fnd(name: str) -> Finding:
    return Finding(monitor=f"test/{name}", severity=Severity.P1, summary=name, labels={}, network="external")


def clr(name: str) -> Clear:
    return Clear(monitor=f"test/{name}", labels={}, network="external")


async def _alerts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, tuple[str, int]]:
    async with sessions() as s:
        return {a.monitor: (a.status, a.count) for a in await s.scalars(select(Alert))}


async def test_concurrent_requests_for_one_new_fingerprint_make_one_alert(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    writer = InboundWriter(sessions=sessions, clock=clock)
    results = await asyncio.gather(*(writer.submit(findings=[fnd("x")], clears=[]) for _ in range(10)))
    assert await _alerts(sessions) == {"test/x": ("firing", 10)}
    assert sorted(r.fired for r in results) == [0] * 9 + [1]
    assert sum(r.updated for r in results) == 9
    assert writer.transactions < 10  # requests shared transactions


async def test_order_within_one_batch_is_kept(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    writer = InboundWriter(sessions=sessions, clock=clock)
    await writer.submit(findings=[fnd("a")], clears=[])
    async with writer._lock:  # hold the writer so the next three requests form one batch
        tasks = [
            asyncio.create_task(writer.submit(findings=[fnd("b")], clears=[clr("a")])),
            asyncio.create_task(writer.submit(findings=[fnd("a")], clears=[clr("b")])),
            asyncio.create_task(writer.submit(findings=[fnd("c")], clears=[])),
        ]
        await asyncio.sleep(0)
        assert len(writer._queue) == 3
    first, second, third = await asyncio.gather(*tasks)
    assert writer.transactions == 2
    # a: fired, cleared by the first, fired again by the second; b: fired by the first, cleared by the second
    assert await _alerts(sessions) == {
        "test/a": ("firing", 2),
        "test/b": ("resolved", 1),
        "test/c": ("firing", 1),
    }
    assert (first.fired, first.resolved) == (1, 1)
    assert (second.fired, second.resolved) == (1, 1)
    assert (third.fired, third.resolved, third.accepted) == (1, 0, 1)


async def test_a_race_with_another_process_is_retried_and_deduplicated(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    inserted = asyncio.Event()
    go_on = asyncio.Event()
    second_inserting = asyncio.Event()
    inserts: list[str] = []

    def watch(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.startswith("INSERT INTO alerts "):
            inserts.append(statement)
            if len(inserts) == 2:  # the second writer read "no such alert" and now inserts it too
                second_inserting.set()

    event.listen(engine.sync_engine, "before_cursor_execute", watch)

    async def pause(changes: list[AlertChange], session: AsyncSession) -> None:
        inserted.set()
        await go_on.wait()  # inserted, not committed yet

    slow = InboundWriter(sessions=sessions, clock=clock, on_changes=pause)  # "another process"
    fast = InboundWriter(sessions=sessions, clock=clock)
    first = asyncio.create_task(slow.submit(findings=[fnd("r")], clears=[]))
    await inserted.wait()
    second = asyncio.create_task(fast.submit(findings=[fnd("r")], clears=[]))
    await asyncio.wait_for(second_inserting.wait(), 30)
    go_on.set()
    a, b = await asyncio.gather(first, second)
    event.remove(engine.sync_engine, "before_cursor_execute", watch)
    assert await _alerts(sessions) == {"test/r": ("firing", 2)}
    assert (a.fired, b.fired, b.updated) == (1, 0, 1)
    assert (slow.retries, fast.retries) == (0, 1)


async def test_a_failing_batch_fails_every_request_in_it(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async def boom(changes: list[AlertChange], session: AsyncSession) -> None:
        raise RuntimeError("routing stage failed")

    writer = InboundWriter(sessions=sessions, clock=clock, on_changes=boom)
    results = await asyncio.gather(
        *(writer.submit(findings=[fnd(f"f{i}")], clears=[]) for i in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await _alerts(sessions) == {}  # rolled back
    ok = InboundWriter(sessions=sessions, clock=clock)
    assert (await ok.submit(findings=[fnd("f0")], clears=[])).fired == 1


async def test_changes_reach_the_pipeline_stages_but_not_auto_declare_unless_configured(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    from types import SimpleNamespace

    from fictra.api.routes.notify import _pipeline_hook
    from fictra.platform.stages import Stage

    platform = SimpleNamespace(stages=[])
    writer = InboundWriter(
        sessions=sessions, clock=clock, on_changes=_pipeline_hook(platform, auto_declare=False)
    )  # type: ignore[arg-type]
    await writer.submit(findings=[fnd("h1")], clears=[])  # nothing attached yet: fine
    seen: list[tuple[str, str, str]] = []

    def stage(name: str) -> Stage:
        async def run(changes: list[AlertChange], session: AsyncSession) -> None:
            for c in changes:
                alert = await session.get(Alert, c.alert_id)  # visible in the same transaction
                assert alert is not None
                seen.append((name, alert.monitor, c.kind.value))

        return Stage(name, run)

    platform.stages += [stage("response"), stage("incidents.auto-declare")]  # attached after start-up
    await writer.submit(findings=[fnd("h2")], clears=[clr("h1")])
    assert sorted(seen) == [("response", "test/h1", "resolved"), ("response", "test/h2", "fired")]
    seen.clear()
    declaring = InboundWriter(
        sessions=sessions, clock=clock, on_changes=_pipeline_hook(platform, auto_declare=True)
    )  # type: ignore[arg-type]
    await declaring.submit(findings=[fnd("h3")], clears=[])
    assert sorted(seen) == [("incidents.auto-declare", "test/h3", "fired"), ("response", "test/h3", "fired")]
