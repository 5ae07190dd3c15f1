"""Monitor state survives a restart and a rolled-back batch exactly: the rolling window, the open
conditions and the series' previous block are snapshots in ``monitor_state``, written in the batch's
transaction (SQLite and PostgreSQL). Synthetic blocks: the window's arithmetic is what is tested."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.alerting.models import Alert
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.types import Block, BlockBatch, Reorg, Tx
from fictra.clock import SystemClock
from fictra.db.engine import session_factory
from fictra.monitors.base import MonitorOutput
from fictra.monitors.config import OracleMonitor, TransactionsMonitor
from fictra.monitors.models import MonitorWindowEntry
from fictra.monitors.oracle import Closed, OracleCheck, Submission
from fictra.monitors.pipeline import AlertPipeline
from fictra.monitors.snapshots import stateful
from fictra.monitors.state import Conditions
from fictra.monitors.transactions import BlockSummary, RollingWindow, TransactionsCheck, summary_state
from fictra.series.models import SeriesSample
from fictra.series.recorder import SeriesRecorder

SET_FEE = "0x69fe0e2d"  # PaymentToken.setFee(uint256)


def tx(to: str, index: int, *, status: int) -> Tx:
    return Tx(
        hash=f"0x{index:064x}",
        index=0,
        sender="0x" + "ab" * 20,
        to=to,
        value=0,
        input=SET_FEE + "00" * 32,
        gas=100_000,
        gas_price=1,
        max_fee_per_gas=None,
        max_priority_fee_per_gas=None,
        nonce=index,
        status=status,
        gas_used=30_000,
        effective_gas_price=1,
        contract_address=None,
        logs=(),
    )


def block(number: int, txs: tuple[Tx, ...] = ()) -> Block:
    return Block(
        number=number,
        hash=f"0x{number:064x}",
        parent_hash=f"0x{number - 1:064x}",
        timestamp=1_000 + 2 * number,
        gas_used=30_000 * len(txs),
        gas_limit=30_000_000,
        base_fee_per_gas=10**9,
        miner="0x" + "00" * 20,
        txs=txs,
    )


def batch(*blocks: Block) -> BlockBatch:
    return BlockBatch(network="devnet", blocks=blocks, head=blocks[-1].number + 10, at_head=False)


def monitors(manifest: Manifest) -> tuple[TransactionsCheck, SeriesRecorder]:
    config = TransactionsMonitor.model_validate(
        {
            "type": "transactions",
            "name": "tx",
            "contracts": ["PaymentToken"],
            "thresholds": {"window": "5m", "max_error_rate": 0.05, "min_calls_for_error_rate": 4},
        }
    )
    return TransactionsCheck(config=config, manifest=manifest), SeriesRecorder(network="devnet")


def test_rolling_window_round_trips_with_amounts_beyond_64_bits() -> None:
    window = RollingWindow(300)
    for n in range(3):
        window.add(
            BlockSummary(
                n,
                f"0x{n}",
                100 + n,
                txs=2,
                calls=Counter({"PT.transfer": 2}),
                pt_volume=10**30 + n,
                pt_senders=Counter({"0xa": 10**30 + n}),
                errors=Counter({"PT.transfer": n % 2}),
            )
        )
    stored = [summary_state(e) for e in window.entries]
    copy = RollingWindow(300)
    copy.load(window.first_timestamp, json.loads(json.dumps(stored)))
    assert [summary_state(e) for e in copy.entries] == stored
    assert (copy.txs, copy.pt_volume, copy.errors, copy.first_timestamp) == (
        6,
        3 * 10**30 + 3,
        {"PT.transfer": 1},
        100,
    )


def test_conditions_round_trip_and_none_means_take_over_from_the_store() -> None:
    held = Conditions(monitor="m", network="devnet")
    finding = Finding("m", Severity.P1, "s", {"a": "1"}, block=BlockRef(7, "0x7"))
    held.hold(finding, MonitorOutput())
    restored = Conditions(monitor="m", network="devnet")
    restored.restore(held.snapshot())
    assert restored.resumed and restored.holds({"a": "1"}) and restored.snapshot() == held.snapshot()
    restored.restore(None)
    assert not restored.resumed and not restored.active


async def test_a_restart_between_blocks_of_a_burst_keeps_the_window(
    engine: AsyncEngine, monitors_manifest: Manifest
) -> None:
    pt = monitors_manifest.address("PaymentToken").lower()
    sessions = session_factory(engine)
    reverted = lambda n: tuple(tx(pt, 10 * n + i, status=0) for i in range(2))  # noqa: E731

    tx_check, series = monitors(monitors_manifest)
    async with sessions() as session, session.begin():
        await AlertPipeline(monitors=[tx_check, series], clock=SystemClock()).on_batch(
            batch(block(1, reverted(1))), session
        )
    # a rolled-back batch (the checkpoint did not advance) is delivered again: counted once
    pipeline = AlertPipeline(monitors=list(monitors(monitors_manifest)), clock=SystemClock())
    async with sessions() as session:
        await pipeline.on_batch(batch(block(2)), session)
        await session.rollback()
    async with sessions() as session, session.begin():
        await pipeline.on_batch(batch(block(2)), session)
    assert pipeline.monitors[0].window.txs == 2  # type: ignore[attr-defined]

    restarted = AlertPipeline(monitors=list(monitors(monitors_manifest)), clock=SystemClock())
    async with sessions() as session, session.begin():
        await restarted.on_batch(batch(block(3, reverted(3))), session)
    async with sessions() as session:
        (anchor, evidence) = (await session.execute(select(Alert.block_number, Alert.evidence))).one()
        interval = await session.scalar(
            select(func.count()).select_from(SeriesSample).where(SeriesSample.name == "block_interval_s")
        )
    assert anchor == 3 and evidence["calls"] == 4 and evidence["errors"] == 4  # the whole burst
    assert interval == 2  # blocks 2 and 3: the first block after each restart keeps its interval

    async def window_rows() -> list[int]:
        async with sessions() as session:
            return list((await session.execute(select(MonitorWindowEntry.block_number))).scalars())

    assert sorted(await window_rows()) == [1, 2, 3]  # one row per block, written with its batch
    async with sessions() as session, session.begin():
        await restarted.on_batch(batch(block(200)), session)  # 400 s later: 1-3 leave the 5 min window
    assert await window_rows() == [200]


def test_oracle_rounds_round_trip_through_json(monitors_manifest: Manifest) -> None:

    def make() -> OracleCheck:
        config = OracleMonitor.model_validate({"type": "oracle", "name": "oracle"})
        pool = RpcPool(network="devnet", urls=["http://127.0.0.1:9"], clock=SystemClock())
        return OracleCheck(config=config, manifest=monitors_manifest, pool=pool)

    live = make()
    address, feed = next(iter(live.feeds.items()))
    sub = Submission(-(10**40), "0xabc", BlockRef(12, "0x12"))
    feed.nodes = ["0xn1", "0xn2"]
    feed.rounds = {7: {"0xn1": sub}}
    feed.opened = {7: 11}
    feed.closed.append(Closed(6, 10, 5 * 10**8, {"0xn2": sub}, 9))
    feed.closed_up_to, feed.last_answer, feed.last_round, feed.misses = 6, 5 * 10**8, 6, {"0xn2": 2}
    adapter = stateful(live)
    assert adapter is not None
    state = json.loads(json.dumps(adapter.snapshot()))
    restored = make()
    stateful(restored).restore(state)  # type: ignore[union-attr]
    again = restored.feeds[address]
    assert (again.rounds, again.opened, list(again.closed)) == (
        {7: {"0xn1": sub}},
        {7: 11},
        list(feed.closed),
    )
    assert (again.closed_up_to, again.last_answer, again.misses, again.nodes) == (
        6,
        5 * 10**8,
        {"0xn2": 2},
        feed.nodes,
    )
    stateful(restored).restore(None)  # type: ignore[union-attr]
    assert restored.feeds[address].rounds == {} and restored.feeds[address].nodes is None


class FailsOnce:
    """A block monitor that raises on its second batch (an RPC read that failed), after the others ran."""

    name = "fails-once"

    def __init__(self) -> None:
        self.calls = 0

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("eth_call failed")
        return MonitorOutput()

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        return MonitorOutput()


async def test_a_batch_retried_after_a_monitor_raised_is_counted_once(
    engine: AsyncEngine, monitors_manifest: Manifest
) -> None:
    pt = monitors_manifest.address("PaymentToken").lower()
    sessions = session_factory(engine)
    tx_check, series = monitors(monitors_manifest)
    pipeline = AlertPipeline(monitors=[tx_check, series, FailsOnce()], clock=SystemClock())
    async with sessions() as session, session.begin():
        await pipeline.on_batch(batch(block(1, (tx(pt, 1, status=1),))), session)
    burst = batch(block(2, (tx(pt, 2, status=0), tx(pt, 3, status=0))))
    async with sessions() as session:
        with pytest.raises(RuntimeError):
            await pipeline.on_batch(burst, session)  # the window took the block, then the batch failed
        await session.rollback()
    async with sessions() as session, session.begin():
        await pipeline.on_batch(burst, session)  # the follower delivers it again
    assert tx_check.window.txs == 3 and sum(tx_check.window.errors.values()) == 2
