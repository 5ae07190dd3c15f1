"""The stage list after the alert store: one explicit order built in one function, run in the alert
store's transaction."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.alerting.findings import Finding, Severity
from fictra.alerting.values import AlertChange
from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.monitors.base import MonitorOutput
from fictra.monitors.pipeline import AlertPipeline
from fictra.platform.config_set import load_config_set
from fictra.platform.stages import Stage, build_stages, chain
from fictra.response.context import ResponseContext
from fictra.response.queries import response_of

REPO = Path(__file__).resolve().parents[2]


def finding() -> Finding:
    return Finding(
        monitor="test-paused", severity=Severity.P0, summary="paused happened", labels={"name": "paused"}
    )


def test_the_order_is_response_then_incidents_then_emergency(clock: FakeClock) -> None:
    config = load_config_set(REPO / "config")
    response = ResponseContext(config=config.response, clock=clock)
    assert [s.name for s in build_stages(response=response, incidents=None, policies=None)] == ["response"]
    assert build_stages(response=None, incidents=None, policies=None) == []
    assert chain([]) is None


async def test_chained_stages_run_in_order_inside_the_store_transaction(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    sessions = session_factory(engine)
    config = load_config_set(REPO / "config")
    ctx = ResponseContext(config=config.response, clock=clock)
    order: list[str] = []

    def probe(name: str) -> Stage:
        async def run(changes: list[AlertChange], session: object) -> None:
            order.append(f"{name}:{len(changes)}")

        return Stage(name, run)  # type: ignore[arg-type]

    stages = [probe("first"), *build_stages(response=ctx, incidents=None, policies=None), probe("last")]
    pipeline = AlertPipeline(monitors=[], clock=clock, on_changes=chain(stages))
    async with sessions.begin() as session:
        await pipeline.ingest(session, MonitorOutput(findings=[finding()]), network="devnet", head=None)
    assert order == ["first:1", "last:1"]
    async with sessions() as session:
        from sqlalchemy import select

        from fictra.alerting.models import Alert

        alert_id = (await session.execute(select(Alert.id))).scalar_one()
        view = await response_of(session, ctx, alert_id=alert_id)
    assert view.level_name == "first_level_support"  # the response stage ran between the two probes


async def test_a_failing_stage_rolls_the_alerts_back(engine: AsyncEngine, clock: FakeClock) -> None:
    sessions = session_factory(engine)

    async def boom(changes: list[AlertChange], session: object) -> None:
        raise RuntimeError("stage failed")

    pipeline = AlertPipeline(monitors=[], clock=clock, on_changes=chain([Stage("boom", boom)]))  # type: ignore[arg-type]
    try:
        async with sessions.begin() as session:
            await pipeline.ingest(session, MonitorOutput(findings=[finding()]), network="devnet", head=None)
    except RuntimeError:
        pass
    async with sessions() as session:
        from sqlalchemy import func, select

        from fictra.alerting.models import Alert

        assert (await session.execute(select(func.count()).select_from(Alert))).scalar_one() == 0
