"""Reorg detection with anvil_reorg: the Reorg value, the rewound checkpoint and the new branch."""

from __future__ import annotations

import asyncio

import pytest
from chainkit import Chain, Recorder
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.chain.checkpoint import load_checkpoint, load_hashes
from fictra.chain.follower import Follower
from fictra.chain.models import ChainReorg
from fictra.chain.pool import RpcPool
from fictra.clock import SystemClock
from fictra.devnet.accounts import account
from fictra.errors import ChainError
from fictra.metrics import new_registry


def follower_for(
    pool: RpcPool, sessions: async_sessionmaker[AsyncSession], rec: Recorder, **kw: int
) -> Follower:
    return Follower(
        network="devnet",
        pool=pool,
        sessions=sessions,
        on_batch=rec.on_batch,
        on_reorg=rec.on_reorg,
        clock=SystemClock(),
        start_block=1,
        batch_size=8,
        poll_interval=0.02,
        subscribe=False,
        **kw,  # type: ignore[arg-type]
    )


def canonical(chain: Chain, first: int, last: int) -> list[str]:
    raws = chain.batch([("eth_getBlockByNumber", [hex(n), False]) for n in range(first, last + 1)])
    return [r["hash"] for r in raws]


async def check_reorg_outcome(
    chain: Chain,
    sessions: async_sessionmaker[AsyncSession],
    rec: Recorder,
    *,
    tip: int,
    depth: int,
    old: list[str],
) -> None:
    assert len(rec.reorgs) == 1
    reorg = rec.reorgs[0]
    assert (reorg.depth, reorg.common_ancestor, reorg.network) == (depth, tip - depth, "devnet")
    assert list(reorg.old_hashes) == old
    assert list(reorg.new_hashes) == canonical(chain, tip - depth + 1, tip)
    head = chain.head()
    numbers = rec.numbers
    assert numbers == list(range(1, tip + 1)) + list(range(tip - depth + 1, head + 1))
    replayed = [b for batch in rec.batches for b in batch.blocks][tip:]
    assert [b.hash for b in replayed] == canonical(chain, tip - depth + 1, head)
    async with sessions() as session:
        checkpoint = await load_checkpoint(session, network="devnet")
        hashes = await load_hashes(session, network="devnet")
        rows = (await session.execute(select(ChainReorg))).scalars().all()
    assert checkpoint is not None and checkpoint.number == head
    assert [hashes[n] for n in range(1, head + 1)] == canonical(chain, 1, head)
    assert [(r.depth, r.common_ancestor, r.old_hashes) for r in rows] == [(depth, tip - depth, old)]
    assert rows[0].detected_at.tzinfo is not None


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5])
async def test_reorg_at_the_head(
    depth: int, chain: Chain, pool: RpcPool, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chain.fill(blocks=8, txs_per_block=1)
    tip = chain.head()
    rec = Recorder()
    metrics = new_registry()
    follower = follower_for(pool, sessions, rec, metrics=metrics)
    task = asyncio.create_task(follower.run(rec.stop))
    try:
        async with asyncio.timeout(20):
            await rec.wait_past(tip - 1)
        old = canonical(chain, tip - depth + 1, tip)
        chain.call("anvil_reorg", depth, [])
        async with asyncio.timeout(20):
            while not rec.reorgs:
                rec.progress.clear()
                await rec.progress.wait()
        chain.mine_empty(2)
        async with asyncio.timeout(20):
            await rec.wait_past(tip + 1)
    finally:
        rec.stop.set()
        await asyncio.wait_for(task, timeout=10)
    await check_reorg_outcome(chain, sessions, rec, tip=tip, depth=depth, old=old)
    assert follower.counters["reorgs"] == 1 and follower.counters["reorged_blocks"] == depth
    assert metrics.registry.get_sample_value("fictra_reorgs_total", {"network": "devnet"}) == 1
    assert metrics.registry.get_sample_value("fictra_reorg_depth_blocks_sum", {"network": "devnet"}) == depth


async def test_reorg_while_stopped_is_found_on_restart_from_the_stored_hashes(
    chain: Chain, pool: RpcPool, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chain.fill(blocks=10, txs_per_block=1)
    tip = chain.head()
    rec = Recorder(stop_at=tip)
    await asyncio.wait_for(follower_for(pool, sessions, rec).run(rec.stop), timeout=20)
    old = canonical(chain, tip - 3 + 1, tip)
    raw = chain.signed(account(20), to=account(21).address, value=12345)
    chain.call("anvil_reorg", 3, [[raw, 1]])  # the new branch carries a tx the old one did not
    chain.mine_empty(20)
    rec.stop.clear()
    rec.stop_at = chain.head()
    await asyncio.wait_for(follower_for(pool, sessions, rec).run(rec.stop), timeout=20)
    await check_reorg_outcome(chain, sessions, rec, tip=tip, depth=3, old=old)
    new_branch = [b for batch in rec.batches for b in batch.blocks][tip : tip + 3]
    moved = [t for t in new_branch[1].txs if t.sender == account(20).address.lower()]
    assert [(t.to, t.value) for t in moved] == [(account(21).address.lower(), 12345)]


async def test_reorg_deeper_than_the_hash_buffer_stops_with_a_clear_error(
    chain: Chain, pool: RpcPool, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chain.fill(blocks=10, txs_per_block=1)
    tip = chain.head()
    rec = Recorder(stop_at=tip)
    await asyncio.wait_for(follower_for(pool, sessions, rec, keep_hashes=4).run(rec.stop), timeout=20)
    chain.call("anvil_reorg", 6, [])
    chain.mine_empty(1)
    rec.stop.clear()
    with pytest.raises(ChainError, match="deeper than the 4 recent block hashes"):
        await asyncio.wait_for(follower_for(pool, sessions, rec, keep_hashes=4).run(rec.stop), timeout=20)
    async with sessions() as session:
        checkpoint = await load_checkpoint(session, network="devnet")
    assert checkpoint is not None and checkpoint.number == tip, "nothing skipped: the checkpoint stayed"


async def test_a_failing_reorg_consumer_rolls_the_rewind_back(
    chain: Chain, pool: RpcPool, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chain.fill(blocks=6, txs_per_block=1)
    tip = chain.head()
    rec = Recorder(stop_at=tip)
    await asyncio.wait_for(follower_for(pool, sessions, rec).run(rec.stop), timeout=20)
    old = canonical(chain, tip - 1, tip)
    chain.call("anvil_reorg", 2, [])
    chain.mine_empty(3)
    rec.fail_reorg = True
    rec.stop.clear()
    with pytest.raises(RuntimeError, match="reorg consumer failed"):
        await asyncio.wait_for(follower_for(pool, sessions, rec).run(rec.stop), timeout=20)
    async with sessions() as session:
        checkpoint = await load_checkpoint(session, network="devnet")
        assert (await session.execute(select(ChainReorg))).scalars().all() == []
    assert checkpoint is not None and checkpoint.number == tip

    rec.stop_at = chain.head()
    rec.fail_reorg = False
    await asyncio.wait_for(follower_for(pool, sessions, rec).run(rec.stop), timeout=20)
    await check_reorg_outcome(chain, sessions, rec, tip=tip, depth=2, old=old)
