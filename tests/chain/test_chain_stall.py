"""A follower that makes no checkpoint progress while the head moves is reported (injected clock) and
raised as a P1 alert by the follower-stall monitor; progress clears it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import Severity
from fictra.chain import checkpoint as cp
from fictra.chain.follower import Follower
from fictra.chain.pool import RpcPool
from fictra.clock import FakeClock
from fictra.monitors.follower import FollowerStallMonitor


async def _noop(*_: object) -> None:
    return None


async def test_a_stalled_follower_raises_a_p1_and_progress_clears_it(
    clock: FakeClock, sessions: async_sessionmaker[AsyncSession]
) -> None:
    pool = RpcPool(network="devnet", urls=["http://127.0.0.1:9"], clock=clock)
    follower = Follower(
        network="devnet", pool=pool, sessions=sessions, on_batch=_noop, clock=clock, stall_after=60
    )
    monitor = FollowerStallMonitor(stall=follower.stall, network="devnet")
    try:
        assert follower.stall() is None, "not running yet"
        follower.checkpoint = cp.Checkpoint("devnet", 100, "0x" + "ab" * 32)
        pool.best_head = 100
        follower._progressed()  # what run() does at start and after every checkpoint change
        pool.best_head = 140
        clock.advance(59)
        assert follower.stall() is None, "inside the allowance"
        clock.advance(2)
        stall = follower.stall()
        assert stall is not None and stall.last_block == 100 and (stall.head_then, stall.head) == (100, 140)
        async with sessions() as session:
            out = await monitor.poll(session)
        assert [f.severity for f in out.findings] == [Severity.P1]
        finding = out.findings[0]
        assert finding.labels == {"condition": "follower_stalled"}
        assert "no progress for 61s, stuck at block 100" in finding.summary
        assert finding.evidence["head"] == 140
        async with sessions() as session:
            again = await monitor.poll(session)
        assert again.findings == [] and again.clears == [], "one alert per stall"
        follower.checkpoint = cp.Checkpoint("devnet", 120, "0x" + "cd" * 32)
        follower._progressed()
        async with sessions() as session:
            cleared = await monitor.poll(session)
        assert [c.labels for c in cleared.clears] == [{"condition": "follower_stalled"}]
        clock.advance(600)
        assert follower.stall() is None, "the head has not moved since: a quiet chain is no stall"
    finally:
        await pool.aclose()
