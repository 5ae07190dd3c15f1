"""Chart series: the recorder's samples per block (throughput, errors, gas, base fee, block interval,
oracle answers and each node's submission), written in the caller's transaction, undone by a reorg, and
read back bucketed through the API — on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.chain.types import Block, BlockBatch, Log, Reorg, Tx
from fictra.db.engine import session_factory
from fictra.errors import UsageError
from fictra.series.models import SeriesSample
from fictra.series.queries import query_series, series_names
from fictra.series.recorder import ANSWER, SUBMISSION, FeedInfo, SeriesRecorder

FEED = "0x" + "fe" * 20
NODE = "0x" + "ab" * 20
T0 = 1_767_225_600  # 2026-01-01T00:00:00Z


def word(value: int) -> str:
    return "0x" + (value % (1 << 256)).to_bytes(32, "big").hex()


def log(topics: tuple[str, ...], number: int, address: str = FEED) -> Log:
    return Log(address, topics, "0x", 0, "0x" + "11" * 32, 0, number, "0x" + f"{number:064x}")


def tx(i: int, *, status: int = 1, logs: tuple[Log, ...] = ()) -> Tx:
    return Tx(
        "0x" + f"{i:064x}", i, NODE, FEED, 0, "0x", 21000, 10, None, None, i, status, 21000, 10, None, logs
    )


def block(
    number: int, txs: tuple[Tx, ...], *, t: int | None = None, base_fee: int | None = 2_000_000_000
) -> Block:
    timestamp = T0 + 12 * number if t is None else t
    return Block(
        number,
        "0x" + f"{number:064x}",
        "0x" + f"{number - 1:064x}",
        timestamp,
        15_000_000,
        30_000_000,
        base_fee,
        NODE,
        txs,
    )


def oracle_block(number: int) -> Block:
    submission = log((SUBMISSION, word(-150_000_000), word(7), "0x" + "00" * 12 + NODE[2:]), number)
    answer = log((ANSWER, word(2_050_00000000), word(7)), number)
    other = log((ANSWER, word(1), word(1)), number, address="0x" + "99" * 20)  # not a feed: ignored
    return block(number, (tx(1, logs=(submission, answer, other)), tx(2, status=0), tx(3)))


def recorder() -> SeriesRecorder:
    return SeriesRecorder(network="devnet", feeds={FEED.upper().replace("0X", "0x"): FeedInfo("GOLD", 1e8)})


def test_samples_of_one_block() -> None:
    rec = recorder()
    rec.samples(block(9, ()))
    rows = {r["name"]: r["value"] for r in rec.samples(oracle_block(10))}
    assert rows == {
        "tx_count": 3.0,
        "tx_reverted": 1.0,
        "gas_used_ratio": 0.5,
        "base_fee_gwei": 2.0,
        "block_interval_s": 12.0,
        "oracle.GOLD.answer": 2050.0,
        f"oracle.GOLD.node.{NODE}": -1.5,
    }
    # no previous block seen (first of a run / after a gap): no interval; no base fee before London
    assert {r["name"] for r in recorder().samples(block(20, (), base_fee=None))} == {
        "tx_count",
        "tx_reverted",
        "gas_used_ratio",
    }


async def test_recorded_in_the_callers_transaction_and_undone_by_reorg(engine: AsyncEngine) -> None:
    rec = recorder()
    sessions = session_factory(engine)
    with pytest.raises(RuntimeError):
        async with sessions.begin() as db:
            await rec.on_batch(BlockBatch("devnet", (block(1, (tx(1),)),), head=1, at_head=True), db)
            raise RuntimeError("the follower's batch failed")
    async with sessions.begin() as db:
        blocks = tuple(oracle_block(n) if n % 2 else block(n, (tx(1),)) for n in range(1, 11))
        output = await rec.on_batch(BlockBatch("devnet", blocks, head=10, at_head=True), db)
        assert output.findings == [] and output.clears == []
    async with sessions() as db:
        count = await db.scalar(
            select(func.count()).select_from(SeriesSample).where(SeriesSample.name == "tx_count")
        )
        assert count == 10
        assert f"oracle.GOLD.node.{NODE}" in await series_names(db, network="devnet")
        assert await series_names(db, network="mainnet") == []
    async with sessions.begin() as db:
        await rec.on_reorg(Reorg("devnet", common_ancestor=7, depth=3, old_hashes=("a", "b", "c")), db)
    async with sessions() as db:
        numbers = (
            await db.execute(select(SeriesSample.block_number).where(SeriesSample.name == "tx_count"))
        ).scalars()
        assert sorted(numbers) == list(range(1, 8))


async def test_bucketed_query(engine: AsyncEngine) -> None:
    rec = recorder()
    async with session_factory(engine).begin() as db:
        blocks = tuple(block(n, tuple(tx(i) for i in range(n % 4))) for n in range(0, 20))  # t = T0 + 12n
        await rec.on_batch(BlockBatch("devnet", blocks, head=19, at_head=True), db)
    async with session_factory(engine)() as db:
        points = await query_series(db, network="devnet", name="tx_count", start=T0, end=T0 + 240, step=60)
        assert [p.t for p in points] == [T0, T0 + 60, T0 + 120, T0 + 180]
        first = points[0]  # blocks 0..4: 0,1,2,3,0 txs
        assert (first.count, first.sum, first.min, first.max, first.avg) == (5, 6.0, 0.0, 3.0, 1.2)
        inside = await query_series(db, network="devnet", name="tx_count", start=T0 + 12, end=T0 + 36, step=1)
        assert [p.t for p in inside] == [T0 + 12, T0 + 24]  # end exclusive, empty buckets left out
        for bad, message in (
            ({"start": T0, "end": T0, "step": 1}, "range is empty"),
            ({"start": T0, "end": T0 + 10, "step": 0}, "at least 1 second"),
            ({"start": T0, "end": T0 + 100_000, "step": 1}, "at most 5000"),
        ):
            with pytest.raises(UsageError, match=message):
                await query_series(db, network="devnet", name="tx_count", **bad)


async def test_old_samples_are_pruned(engine: AsyncEngine) -> None:
    rec = SeriesRecorder(network="devnet", retention_blocks=10, prune_every=5)
    sessions = session_factory(engine)
    for start in range(0, 30, 3):
        async with sessions.begin() as db:
            blocks = tuple(block(n, ()) for n in range(start, start + 3))
            await rec.on_batch(BlockBatch("devnet", blocks, head=start + 2, at_head=True), db)
    async with sessions() as db:
        kept = sorted(
            (
                await db.execute(select(SeriesSample.block_number).where(SeriesSample.name == "tx_count"))
            ).scalars()
        )
    # the last prune ran at block 26 (at least 5 blocks after the one at 20): blocks <= 16 deleted
    assert kept == list(range(17, 30))
