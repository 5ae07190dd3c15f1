"""Concurrent writers never fork the chain: 4 tasks x 50 appends, each in its own transaction on its own
connection, give one chain of 200 entries that verifies (PostgreSQL: row lock on the head; SQLite: the
write lock)."""

from __future__ import annotations

import asyncio
import itertools

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.audit.service import record
from fictra.audit.verify import verify_log
from fictra.clock import FakeClock
from fictra.db.engine import session_factory

TASKS, EACH = 4, 50


async def test_concurrent_appends_keep_one_chain(engine: AsyncEngine, clock: FakeClock) -> None:
    sessions = session_factory(engine)

    async def writer(n: int) -> None:
        for i in range(EACH):
            async with sessions.begin() as session:
                await record(
                    session, actor=f"writer-{n}", action="test.append", target=f"t:{n}:{i}", clock=clock
                )
            if i % 7 == 0:
                await asyncio.sleep(0)

    await asyncio.gather(*(writer(n) for n in range(TASKS)))
    async with sessions() as session:
        report = await verify_log(session, verifier=None)
        rows = (await session.execute(text("SELECT idx, actor FROM audit_entries ORDER BY idx"))).all()
    assert report.ok, report.problems
    assert report.entries == report.head_size == TASKS * EACH
    assert [r.idx for r in rows] == list(range(TASKS * EACH))
    writers_seen = [r.actor for r in rows]
    assert {w: writers_seen.count(w) for w in set(writers_seen)} == {
        f"writer-{n}": EACH for n in range(TASKS)
    }
    # interleaved, not one writer after another: the lock serialised real concurrency
    switches = sum(1 for a, b in itertools.pairwise(writers_seen) if a != b)
    assert switches > TASKS


async def test_an_open_append_holds_back_the_next(engine: AsyncEngine, clock: FakeClock) -> None:
    """While one transaction has appended and not committed, another append waits (it would otherwise
    take the same index); it goes on as soon as the first commits, and chains onto it."""
    sessions = session_factory(engine)
    async with sessions.begin() as first:
        mine = await record(first, actor="a", action="test.first", target="t:1", clock=clock)

        async def second() -> tuple[int, str]:
            async with sessions.begin() as other:
                entry = await record(other, actor="b", action="test.second", target="t:2", clock=clock)
                return entry.idx, entry.prev_hash

        waiting = asyncio.create_task(second())
        done, _ = await asyncio.wait({waiting}, timeout=0.3)
        assert not done, "the second append did not wait for the first transaction"
    assert await asyncio.wait_for(waiting, 10) == (1, mine.entry_hash)
