"""Aggregation groups survive a crash: the same scenario run straight through and run with a simulated
kill -9 in the middle of every batch (the transaction rolled back, the process state thrown away, the
batch replayed by a fresh pipeline) leaves the same outbox rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fictra.alerting.findings import Clear, Finding, Severity
from fictra.alerting.models import Alert
from fictra.clock import FakeClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.monitors.base import MonitorOutput
from fictra.notify.models import Notification
from fictra.response.config import RoutingConfig
from fictra.response.models import ResponseGroup
from fictra.response.routing import route_by_id
from fictra.response.scheduled import tick

from .helpers import Harness, finding, make_config

ROUTING: dict[str, Any] = {
    "route": {
        "receiver": "ops-webhook",
        "group_by": ["name"],
        "group_wait": "30s",
        "group_interval": "2m",
        "repeat_interval": "10m",
        "routes": [{"matchers": ['severity="P0"'], "receiver": "ops-email", "continue": True}],
    }
}

Step = Callable[[Harness, AsyncSession], Awaitable[Any]]


def _fire(*findings: Finding) -> Step:
    async def step(h: Harness, session: AsyncSession) -> Any:
        out = MonitorOutput(findings=list(findings))
        return await h.alerts.ingest(session, out, network="devnet", head=None)

    return step


def _clear(*findings: Finding) -> Step:
    async def step(h: Harness, session: AsyncSession) -> Any:
        out = MonitorOutput(clears=[Clear(f.monitor, f.labels, f.network) for f in findings])
        return await h.alerts.ingest(session, out, network="devnet", head=None)

    return step


async def _tick(h: Harness, session: AsyncSession) -> Any:
    return await tick(session, h.ctx)


PAUSED = finding("paused", Severity.P0, contract="token")
PAUSED_2 = finding("paused", Severity.P0, contract="reserve")
LAG = finding("lag", Severity.P1, node="a")
FEE = finding("fee", Severity.P2)

# (seconds to advance first, step): joins inside group_wait, a flush, a fire and resolve inside one
# group_interval (never announced), a repeat, resolved notices, a group that forms again afterwards.
SCENARIO: list[tuple[float, Step]] = [
    (0, _fire(PAUSED, LAG)),
    (10, _fire(PAUSED_2)),
    (10, _fire(FEE)),
    (15, _tick),  # 35 s: group_wait over for every group
    (20, _clear(FEE)),
    (10, _fire(finding("lag", Severity.P1, node="b"))),
    (100, _tick),  # group_interval: the lag group's second alert
    (600, _tick),  # repeat_interval: still firing
    (30, _clear(PAUSED, PAUSED_2, LAG)),
    (120, _tick),  # resolved notices
    (60, _fire(PAUSED)),  # re-fires: a new group
    (40, _tick),
]


class Crash(Exception):
    """kill -9 in the middle of a batch: its transaction never commits."""


async def _run(engine: AsyncEngine, *, crash: bool) -> list[tuple[Any, ...]]:
    sessions = session_factory(engine)
    clock = FakeClock()
    config = make_config(routing=ROUTING)
    h = Harness(sessions, clock, config)
    for seconds, step in SCENARIO:
        clock.advance(seconds)
        if crash:
            with pytest.raises(Crash):
                async with sessions.begin() as session:
                    await step(h, session)
                    raise Crash
            h = Harness(sessions, clock, config)  # the restarted process: nothing kept in memory
        async with sessions.begin() as session:
            await step(h, session)
    async with sessions() as session:
        rows = list((await session.execute(select(Notification).order_by(Notification.id))).scalars())
        names = {i: fp[:16] for i, fp in (await session.execute(select(Alert.id, Alert.fingerprint))).all()}
        left = list((await session.execute(select(ResponseGroup))).scalars())
    assert sorted(g.route_id for g in left) == ["root", "root.0"]  # lag b; paused again (P0 route)
    return [_normal(row, names) for row in rows]


def _normal(row: Notification, names: dict[int, str]) -> tuple[Any, ...]:
    """An outbox row without what a rolled-back transaction may change: database ids (PostgreSQL's
    sequences do not roll back), named instead by the alert's fingerprint."""

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if key == "alert_id" and isinstance(value, int):
            return names[value]
        if isinstance(value, str):
            return re.sub(r"(/alerts/|^alert-)(\d+)", lambda m: f"{m[1]}{names[int(m[2])]}", value)
        return value

    key = re.sub(r"^escalation:\d+:", "escalation:#:", row.idempotency_key)
    return (key, row.receiver, row.channel, row.status, walk(row.message))


@pytest.fixture
def second_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second migrated, empty database of the same kind as ``database_url``."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'second.db'}"
        migrate(url)
        yield url
        return
    import psycopg

    base = database_url.split("options=")[0].rstrip("?&")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    try:
        migrate(url)
        yield url
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
async def second_engine(second_url: str) -> AsyncIterator[AsyncEngine]:
    eng = make_engine(second_url)
    yield eng
    await eng.dispose()


async def test_kill_9_in_every_batch_changes_no_notification(
    engine: AsyncEngine, second_engine: AsyncEngine
) -> None:
    reference = await _run(engine, crash=False)
    crashed = await _run(second_engine, crash=True)
    groups = [r for r in reference if r[0].startswith("group:") and r[2] != "log"]
    told = [(r[1], r[4]["subject"], r[4]["fields"]["firing"], r[4]["fields"]["resolved"]) for r in groups]
    assert told == [
        ("ops-email", "paused happened (+1 more)", "2", "0"),  # group_wait: both contracts
        ("ops-webhook", "lag happened", "1", "0"),  # fee fired and resolved unannounced
        ("ops-webhook", "lag happened (+1 more)", "2", "0"),  # group_interval: node b joined
        ("ops-email", "paused happened (+1 more)", "2", "0"),  # repeat_interval
        ("ops-webhook", "lag happened (+1 more)", "2", "0"),
        ("ops-email", "paused happened (+1 more)", "0", "2"),
        ("ops-webhook", "lag happened", "1", "1"),  # node a resolved, b still fires
        ("ops-email", "paused happened", "1", "0"),  # re-fired: a new group
    ]
    assert len(reference) == len(crashed) and any(r[0].startswith("escalation:") for r in reference)
    assert crashed == reference


def test_route_ids_resolve_in_the_current_tree_only() -> None:
    root = RoutingConfig.model_validate(ROUTING).route
    child = route_by_id(root, "root.0")
    assert child is not None and child.receiver == "ops-email" and child.group_by == ("name",)
    assert route_by_id(root, "root.1") is None and route_by_id(root, "other") is None
    assert route_by_id(root, "root.x") is None


async def test_a_group_whose_route_is_gone_is_dropped(sessions, clock: FakeClock) -> None:
    h = Harness(sessions, clock, make_config(routing=ROUTING))
    await h.fire(PAUSED, LAG)
    async with sessions() as session:
        assert sorted(g.route_id for g in (await session.execute(select(ResponseGroup))).scalars()) == [
            "root",
            "root.0",
        ]
    h = Harness(sessions, clock, make_config(routing={"route": {"receiver": "ops-log"}}))
    clock.advance(60)
    await h.tick()
    async with sessions() as session:
        assert [g.route_id for g in (await session.execute(select(ResponseGroup))).scalars()] == ["root"]
    sent = [n.receiver for n in await h.outbox() if n.idempotency_key.startswith("group:")]
    assert sent == ["ops-log"]  # the kept group flushes with the current tree's options


async def test_follower_and_tick_at_once_lose_no_alert(sessions, clock: FakeClock) -> None:
    """The follower's batch and the tick run concurrently (PostgreSQL: the advisory lock serialises them
    on the groups; no deadlock with the alert_response rows both update)."""
    h = Harness(sessions, clock, make_config(routing=ROUTING))
    fired: list[int] = []
    for i in range(8):
        clock.advance(20)
        ids, _ = await asyncio.gather(h.fire(finding("lag", Severity.P1, node=f"n{i}")), h.tick())
        fired += ids
    clock.advance(300)
    await h.tick()
    async with sessions() as session:
        [group] = (await session.execute(select(ResponseGroup))).scalars()
    assert sorted(a["alert_id"] for a in group.alerts) == sorted(fired)
    assert set(group.notified) == set(fired)  # every alert was announced by some flush
