"""Acceptance: two schedulers sharing one database run a job exactly once per due time.

Two Scheduler instances with different holder ids, each with its own engine, interleaved in one event
loop under a FakeClock; then two OS processes on the real clock. Both on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text

from fictra.clock import FakeClock
from fictra.db.engine import make_engine, session_factory, sync_engine_for
from fictra.jobs import Job, JobContext, JobRun, Scheduler

T0 = datetime(2026, 1, 1, tzinfo=UTC)
HERE = Path(__file__).parent


async def test_two_schedulers_run_each_due_time_exactly_once(database_url: str) -> None:
    clock = FakeClock(T0)
    executed: list[tuple[str, str, datetime]] = []

    async def work(ctx: JobContext) -> None:
        async with ctx.sessions() as session:  # real I/O, so the other scheduler interleaves
            await session.execute(text("SELECT 1"))
        await asyncio.sleep(0)
        executed.append((ctx.job, ctx.holder, ctx.due_at))

    engines = [make_engine(database_url), make_engine(database_url)]
    try:
        schedulers = [
            Scheduler(sessions=session_factory(engine), clock=clock, holder=f"host-{name}:{pid}:0000")
            for engine, name, pid in zip(engines, "ab", (101, 202), strict=True)
        ]
        for scheduler in schedulers:
            scheduler.register(Job(name="every-5s", every=timedelta(seconds=5), run=work))
            scheduler.register(Job(name="each-minute", cron="* * * * *", tz="Europe/Zurich", run=work))
        a, b = schedulers
        passes = 150
        for i in range(passes):
            # the second scheduler looks 0-2 s later, and every other pass goes first
            late = clock.now() + timedelta(seconds=i % 3)
            first, second = (a.run_due(), b.run_due(late)) if i % 2 else (b.run_due(late), a.run_due())
            await asyncio.gather(first, second)
            clock.advance(5)

        every_5s = [T0 + timedelta(seconds=5 * k) for k in range(passes)]
        minutes = [T0 + timedelta(minutes=m) for m in range(passes * 5 // 60 + 1)]
        ran = Counter((job, due) for job, _, due in executed)
        assert max(ran.values()) == 1  # never twice
        assert sorted(d for j, d in ran if j == "every-5s") == every_5s  # never missed
        assert sorted(d for j, d in ran if j == "each-minute") == minutes
        assert {holder for _, holder, _ in executed} == {a.holder, b.holder}  # both took part

        async with session_factory(engines[0])() as session:
            rows = (await session.execute(select(JobRun.job, JobRun.due_at, JobRun.outcome))).all()
        assert sorted((j, d) for j, d, _ in rows) == sorted(ran)
        assert {o for _, _, o in rows} == {"ok"}
    finally:
        for engine in engines:
            await engine.dispose()


async def test_two_processes_run_each_due_time_exactly_once(database_url: str) -> None:
    sync = sync_engine_for(database_url)
    with sync.begin() as conn:
        conn.execute(text("CREATE TABLE job_hits (holder VARCHAR(200), due_at VARCHAR(64))"))
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "worker_proc.py"),
            database_url,
            "3",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [await asyncio.wait_for(p.communicate(), timeout=60) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        assert out.decode().startswith("ready")
    with sync.connect() as conn:
        hits = conn.execute(text("SELECT holder, due_at FROM job_hits")).all()
        runs = conn.execute(text("SELECT holder, due_at, outcome FROM job_runs")).all()
    sync.dispose()

    per_due = Counter(due for _, due in hits)
    assert per_due and max(per_due.values()) == 1, per_due.most_common(3)  # no due time ran twice
    assert len(per_due) >= 5  # 3 s of a 200 ms job, both processes alive for most of it
    assert {o for _, _, o in runs} == {"ok"} and len(runs) == len(hits)
    assert {h for h, _ in hits} == {h for h, _, _ in runs}
    assert len({h for h, _ in hits}) == 2  # both processes won some due times
