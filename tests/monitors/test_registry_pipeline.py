"""The default monitors behind the AlertPipeline on both databases: findings become stored alerts
(evidence JSON-safe, labels queryable) and clears resolve them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.alerting.queries import list_alerts
from fictra.clock import SystemClock
from fictra.db.engine import session_factory
from fictra.monitors.config import TransactionsMonitor
from fictra.monitors.pipeline import AlertPipeline
from fictra.monitors.registry import build_monitors
from fictra.monitors.transactions import TransactionsCheck
from fictra.platform.config_set import load_config_set
from monitors.rig import E18, Rig, traders, who


async def test_pause_and_breach_become_alerts_then_resolve(
    rig: Rig, config_dir: Path, engine: AsyncEngine
) -> None:
    loaded = load_config_set(config_dir, manifest=rig.manifest)
    block, polled = build_monitors(
        monitors=[*loaded.monitors, *loaded.rules], manifest=rig.manifest, pool=rig.pool, clock=SystemClock()
    )
    pipeline = AlertPipeline(monitors=block, clock=SystemClock(), policy=loaded.policy)
    sessions = session_factory(engine)
    manager, gold = who("reserve_manager"), rig.manifest.address("Asset:GOLD")
    await rig.send(manager, "Reserve", "withdraw", gold, 600 * E18, manager)
    await rig.send(who("guardian"), "EmergencyController", "pauseAll")
    async with sessions() as session:
        await pipeline.on_batch(await rig.batch(), session)
        for monitor in polled:
            await pipeline.ingest(session, await monitor.poll(session), network="devnet", head=rig.seen)
        await session.commit()
    async with sessions() as session:
        firing = await list_alerts(session, status="firing", labels={"condition": "paused"})
        (pause,) = firing  # one alert for the whole pauseAll, naming every paused contract
        assert pause.evidence["contracts"] == ["FoundationToken", "PaymentToken", "Reserve"]
        assert pause.severity == "P0" and pause.monitor == "contract-status"
        (breach,) = await list_alerts(session, status="firing", labels={"condition": "reserve_breach"})
        assert breach.evidence["threshold"] == 1.0 and int(breach.evidence["pt_supply"]) > 0
    await rig.as_timelock("EmergencyController", "unpauseAll")
    await rig.send(manager, "Asset:GOLD", "approve", rig.manifest.address("Reserve"), 600 * E18)
    await rig.send(manager, "Reserve", "deposit", gold, 600 * E18)
    async with sessions() as session:
        await pipeline.on_batch(await rig.batch(), session)
        await session.commit()
    async with sessions() as session:
        resolved = await list_alerts(session, status="resolved", network="devnet")
        conditions = {a.labels.get("condition") for a in resolved}
        assert {"paused", "reserve_breach"} <= conditions
        assert await list_alerts(session, status="firing", labels={"condition": "paused"}) == []


async def test_restarted_monitors_clear_what_they_left_firing(
    rig: Rig, config_dir: Path, engine: AsyncEngine
) -> None:
    """A new instance (a restart) takes over the firing conditions from the alert store: the pause it
    never saw start is cleared when the contracts are unpaused; a window condition waits for its window."""
    loaded = load_config_set(config_dir, manifest=rig.manifest)
    configs = [*loaded.monitors, *loaded.rules]
    sessions = session_factory(engine)

    def fresh() -> AlertPipeline:
        block, _ = build_monitors(monitors=configs, manifest=rig.manifest, pool=rig.pool, clock=SystemClock())
        return AlertPipeline(monitors=block, clock=SystemClock(), policy=loaded.policy)

    await rig.send(who("guardian"), "EmergencyController", "pauseAll")
    async with sessions() as session:
        await fresh().on_batch(await rig.batch(), session)
        await session.commit()
    await rig.as_timelock("EmergencyController", "unpauseAll")
    async with sessions() as session:
        await fresh().on_batch(await rig.batch(), session)
        await session.commit()
    async with sessions() as session:
        assert await list_alerts(session, status="firing", labels={"condition": "paused"}) == []
        resolved = await list_alerts(session, status="resolved", labels={"condition": "paused"})
        assert len(resolved) == 1


async def test_restarted_window_waits_until_its_window_is_refilled(rig: Rig, engine: AsyncEngine) -> None:
    config = TransactionsMonitor.model_validate(
        {"type": "transactions", "name": "tx", "thresholds": {"window": "60s", "max_tx_per_window": 3}}
    )
    sessions = session_factory(engine)

    async def step(monitor: TransactionsCheck) -> None:
        async with sessions() as session:
            await AlertPipeline(monitors=[monitor], clock=SystemClock()).on_batch(await rig.batch(), session)
            await session.commit()

    async def firing() -> int:
        async with sessions() as session:
            return len(await list_alerts(session, status="firing", labels={"condition": "high_throughput"}))

    for _ in range(5):
        await rig.send(traders()[0], "PaymentToken", "transfer", traders()[1], E18)
    await step(TransactionsCheck(config=config, manifest=rig.manifest))
    assert await firing() == 1
    restarted = TransactionsCheck(config=config, manifest=rig.manifest)
    await rig.dev.mine(1)
    await step(restarted)
    assert await firing() == 1, "an empty window after a restart proves nothing yet"
    await rig.dev.increase_time(61)
    await step(restarted)
    assert await firing() == 0
