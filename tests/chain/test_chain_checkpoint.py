"""Checkpoint storage: compare-and-set advances, rewinds and the hash buffer, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from chainkit import Recorder
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.chain import checkpoint as cp
from fictra.chain.follower import Follower
from fictra.chain.pool import RpcPool
from fictra.chain.types import Block, Reorg
from fictra.clock import FakeClock, SystemClock
from fictra.errors import ConfigError, ConflictError

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def block(number: int, tag: str = "a") -> Block:
    return Block(
        number=number,
        hash=f"0x{tag}{number:063x}",
        parent_hash=f"0x{tag}{number - 1:063x}",
        timestamp=number,
        gas_used=0,
        gas_limit=1,
        base_fee_per_gas=None,
        miner="0x" + "0" * 40,
        txs=(),
    )


async def test_advance_and_rewind_keep_checkpoint_and_buffer_consistent(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        first = await cp.advance(s, network="n", previous=None, blocks=[block(1), block(2)], keep=3, now=NOW)
    async with sessions() as s, s.begin():
        second = await cp.advance(
            s, network="n", previous=first, blocks=[block(3), block(4)], keep=3, now=NOW
        )
    async with sessions() as s:
        assert await cp.load_checkpoint(s, network="n") == second == cp.Checkpoint("n", 4, block(4).hash)
        assert await cp.load_hashes(s, network="n") == {n: block(n).hash for n in (2, 3, 4)}
        assert await cp.load_checkpoint(s, network="other") is None
    reorg = Reorg(network="n", common_ancestor=3, depth=1, old_hashes=(block(4).hash,), detected_at_block=5)
    ancestor = cp.Checkpoint("n", 3, block(3).hash)
    async with sessions() as s, s.begin():
        await cp.rewind(s, previous=second, ancestor=ancestor, reorg=reorg, now=NOW)
    async with sessions() as s:
        assert await cp.load_checkpoint(s, network="n") == ancestor
        assert await cp.load_hashes(s, network="n") == {2: block(2).hash, 3: block(3).hash}


async def test_a_second_follower_cannot_advance_a_moved_checkpoint(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as s, s.begin():
        first = await cp.advance(s, network="n", previous=None, blocks=[block(1)], keep=8, now=NOW)
    async with sessions() as s, s.begin():
        await cp.advance(s, network="n", previous=first, blocks=[block(2)], keep=8, now=NOW)
    with pytest.raises(ConflictError, match=r"no longer at block 1 .*another follower"):
        async with sessions() as s, s.begin():
            await cp.advance(s, network="n", previous=first, blocks=[block(2, "b")], keep=8, now=NOW)
    with pytest.raises(ConflictError, match="no longer at no checkpoint"):
        async with sessions() as s, s.begin():
            await cp.advance(s, network="n", previous=None, blocks=[block(1)], keep=8, now=NOW)
    async with sessions() as s:
        assert await cp.load_checkpoint(s, network="n") == cp.Checkpoint("n", 2, block(2).hash)


async def test_follower_options_are_validated(
    pool: RpcPool, sessions: async_sessionmaker[AsyncSession]
) -> None:
    rec = Recorder()
    with pytest.raises(ConfigError, match=r"batch_size \(0\)"):
        Follower(
            network="n", pool=pool, sessions=sessions, on_batch=rec.on_batch, clock=FakeClock(), batch_size=0
        )
    follower = Follower(
        network="n",
        pool=pool,
        sessions=sessions,
        on_batch=rec.on_batch,
        clock=SystemClock(),
        start_block=-1,
        subscribe=False,
    )
    with pytest.raises(ConfigError, match="start_block -1 is negative"):
        await asyncio.wait_for(follower.run(rec.stop), timeout=10)
