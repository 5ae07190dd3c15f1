"""One scheduler process for tests/jobs/test_exactly_once.py: runs the job ``two-processes`` every
200 ms on the real clock for N seconds against the given database; each run writes a row to
``job_hits`` (holder, due time) so duplicates across processes would show."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta

from sqlalchemy import text

from fictra.clock import SystemClock
from fictra.db.engine import make_engine, session_factory
from fictra.jobs import Job, JobContext, Scheduler


async def main(url: str, seconds: float) -> None:
    engine = make_engine(url)

    async def hit(ctx: JobContext) -> None:
        async with ctx.sessions() as session:
            await session.execute(
                text("INSERT INTO job_hits (holder, due_at) VALUES (:holder, :due_at)"),
                {"holder": ctx.holder, "due_at": ctx.due_at.isoformat()},
            )
            await session.commit()

    scheduler = Scheduler(sessions=session_factory(engine), clock=SystemClock())
    scheduler.register(Job(name="two-processes", every=timedelta(milliseconds=200), run=hit))
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    print("ready", flush=True)
    await scheduler.run(stop)
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], float(sys.argv[2])))
