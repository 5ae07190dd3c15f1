"""Anomaly monitor on-chain: a burst of transactions against a learned tx_count baseline fires after
the warm-up and clears within the hysteresis band; baselines persist across instances; per-contract
and per-function series."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.alerting.findings import Severity
from fictra.clock import FakeClock, SystemClock
from fictra.db.engine import session_factory
from fictra.monitors.anomaly import AnomalyCheck
from fictra.monitors.baseline import BaselineSet
from fictra.monitors.baseline_store import load_baselines
from fictra.monitors.config import AnomalyMonitor
from fictra.monitors.state import BaselineStore
from monitors.rig import E18, Rig, traders

PT = "PaymentToken"


def check(rig: Rig, metric: str, **kwargs: Any) -> AnomalyCheck:
    config = AnomalyMonitor.model_validate(
        {"type": "anomaly", "name": f"anomaly-{metric}", "metric": metric, "warmup": 5, **kwargs}
    )
    return AnomalyCheck(config=config, manifest=rig.manifest, clock=SystemClock())


async def burst(rig: Rig, count: int, *, amount: int = E18, sender: int = 0) -> None:
    """``count`` PT transfers mined in one block."""
    await rig.rpc("evm_setAutomine", [False])
    try:
        for _ in range(count):
            await rig.send(traders()[sender], PT, "transfer", traders()[1], amount, wait=False)
        await rig.rpc("evm_mine", [])
    finally:
        await rig.rpc("evm_setAutomine", [True])


async def quiet(rig: Rig, blocks: int) -> None:
    """Alternate empty blocks and single-transfer blocks (a series with some variance)."""
    for i in range(blocks):
        if i % 2:
            await rig.send(traders()[0], PT, "transfer", traders()[1], E18)
        else:
            await rig.dev.mine(1)


async def test_tx_burst_fires_after_warmup_and_clears(rig: Rig) -> None:
    monitor = check(rig, "tx_count", severity="P1", confirmations=3)
    await quiet(rig, 8)
    assert (await rig.run(monitor)).findings == []
    await burst(rig, 20)
    out = await rig.run(monitor)
    (spike,) = out.findings
    assert spike.monitor == "anomaly-tx_count" and spike.severity is Severity.P1 and spike.confirmations == 3
    assert spike.labels == {"metric": "tx_count", "series": "network"}
    assert spike.evidence["observed"] == 20 and float(spike.evidence["z"]) > 4  # type: ignore[arg-type]
    assert spike.block is not None and spike.block.number == rig.seen
    await quiet(rig, 2)
    assert (await rig.run(monitor)).clears == [], "clears only after clear_after (3) calm blocks"
    await quiet(rig, 1)
    out = await rig.run(monitor)
    assert [c.labels for c in out.clears] == [spike.labels] and out.findings == []


async def test_no_finding_during_warmup(rig: Rig) -> None:
    monitor = check(rig, "tx_count", warmup=50)
    await quiet(rig, 4)
    await burst(rig, 20)
    assert (await rig.run(monitor)).findings == []


async def test_baselines_persist_across_instances(rig: Rig) -> None:
    first = check(rig, "tx_count")
    await quiet(rig, 6)
    await rig.run(first)
    stored = await load_baselines(rig.session, monitor="anomaly-tx_count")
    assert stored["network"]["n"] == 6
    second = check(rig, "tx_count")
    await burst(rig, 20)
    (spike,) = (await rig.run(second)).findings  # warm-up already done by the first instance
    assert spike.labels["series"] == "network"


async def test_per_contract_series_are_zero_filled(rig: Rig) -> None:
    monitor = check(rig, "tx_count", series_by="contract", contracts=[PT, "Reserve"])
    await quiet(rig, 8)
    await burst(rig, 15)
    (spike,) = (await rig.run(monitor)).findings
    assert spike.labels == {"metric": "tx_count", "series": PT}
    assert monitor.baselines.series["Reserve"].n == 9  # learned from zeros


async def test_pt_volume_per_function(rig: Rig) -> None:
    monitor = check(rig, "pt_transfer_volume", series_by="function", contracts=[PT])
    await quiet(rig, 8)
    await burst(rig, 1, amount=50_000 * E18)
    (spike,) = (await rig.run(monitor)).findings
    assert spike.labels == {"metric": "pt_transfer_volume", "series": "PaymentToken.Transfer"}
    assert spike.evidence["observed"] == pytest.approx(50_000)


async def test_error_rate_and_event_count_values(rig: Rig) -> None:
    errors = check(rig, "error_rate", series_by="function", contracts=[PT])
    events = check(rig, "event_count", series_by="contract", contracts=[PT])
    await rig.send(traders()[0], PT, "transfer", traders()[1], 10**9 * E18, check=False)
    await rig.send(traders()[0], PT, "transfer", traders()[1], E18)
    batch = await rig.batch()
    failed, ok = batch.blocks
    assert errors.values(failed) == {"PaymentToken.transfer": 1.0}
    assert errors.values(ok) == {"PaymentToken.transfer": 0.0}
    assert events.values(failed)[PT] == 0 and events.values(ok)[PT] >= 1  # Transfer (+ fee Transfer)


def test_bad_band_is_rejected() -> None:
    with pytest.raises(ValueError, match="clear_z"):
        AnomalyMonitor.model_validate(
            {"type": "anomaly", "name": "a", "metric": "tx_count", "z_threshold": 2, "clear_z": 3}
        )


async def test_baseline_store_upserts_on_both_databases(engine: AsyncEngine) -> None:
    """Insert on first save, update in place later (SQLite and PostgreSQL upserts), only touched series."""
    clock = FakeClock()
    baselines = BaselineSet(alpha=0.5, warmup=2, z_threshold=4, clear_z=2)
    store = BaselineStore(monitor="m", baselines=baselines, clock=clock)
    async with session_factory(engine)() as session:
        await store.load(session)
        for value in (1.0, 2.0):
            baselines.observe("a", value)
            baselines.observe("b", value)
            await store.save(session, ["a", "b"])
        baselines.observe("a", 3.0)
        await store.save(session, ["a", "missing"])
        await session.commit()
    async with session_factory(engine)() as session:
        stored = await load_baselines(session, monitor="m")
    assert stored["a"]["n"] == 3 and stored["b"]["n"] == 2
    fresh = BaselineSet(alpha=0.5, warmup=2, z_threshold=4, clear_z=2)
    async with session_factory(engine)() as session:
        await BaselineStore(monitor="m", baselines=fresh, clock=clock).load(session)
    assert fresh.series["a"].mean == pytest.approx(baselines.series["a"].mean)
