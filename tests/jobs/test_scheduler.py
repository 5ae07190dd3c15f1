"""The scheduler on one process, driven by a FakeClock, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import FakeClock
from fictra.errors import ConfigError, NotFoundError
from fictra.jobs import Job, JobContext, JobLease, JobMetrics, JobRun, Outcome, Scheduler, recent_runs

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Recorder:
    """A job function that remembers the due times it ran for."""

    def __init__(self) -> None:
        self.dues: list[datetime] = []
        self.contexts: list[JobContext] = []

    async def __call__(self, ctx: JobContext) -> None:
        self.dues.append(ctx.due_at)
        self.contexts.append(ctx)


async def _runs(sessions: async_sessionmaker[AsyncSession], job: str) -> list[JobRun]:
    async with sessions() as session:
        return sorted(await recent_runs(session, job=job, limit=1000), key=lambda r: r.due_at)


async def test_runs_once_per_due_time_and_records_each_run(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(T0)
    seen = Recorder()
    scheduler = Scheduler(sessions=sessions, clock=clock, holder="host:1:aaaa")
    scheduler.register(Job(name="tick", every=timedelta(seconds=5), run=seen))

    assert [r.due_at for r in await scheduler.run_due()] == [T0]
    clock.advance(2)
    assert await scheduler.run_due() == []  # same due time: nothing
    clock.advance(3)
    assert [r.outcome for r in await scheduler.run_due()] == [Outcome.OK]
    assert seen.dues == [T0, T0 + timedelta(seconds=5)]
    ctx = seen.contexts[1]
    assert (ctx.job, ctx.now, ctx.holder, ctx.woken) == ("tick", clock.now(), "host:1:aaaa", False)
    assert ctx.clock is clock
    async with ctx.sessions() as session:  # the context's session factory reaches the database
        assert (await session.execute(select(JobLease.job))).scalars().all() == ["tick"]

    runs = await _runs(sessions, "tick")
    assert [(r.due_at, r.outcome, r.holder, r.error) for r in runs] == [
        (T0, "ok", "host:1:aaaa", None),
        (T0 + timedelta(seconds=5), "ok", "host:1:aaaa", None),
    ]
    assert runs[1].started_at == runs[1].finished_at == T0 + timedelta(seconds=5)
    assert runs[1].duration_seconds == 0.0
    async with sessions() as session:
        lease = await session.get(JobLease, "tick")
    assert lease is not None and lease.holder is None and lease.since == T0  # freed after the run


async def test_after_downtime_the_missed_periods_run_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(T0)
    seen = Recorder()
    scheduler = Scheduler(sessions=sessions, clock=clock)
    scheduler.register(Job(name="minutely", every=timedelta(minutes=1), run=seen))
    await scheduler.run_due()
    clock.advance(3600 + 30)  # an hour down: 60 due times missed

    # a restarted process (new scheduler, new holder) runs the latest due time only
    restarted = Scheduler(sessions=sessions, clock=clock)
    restarted.register(Job(name="minutely", every=timedelta(minutes=1), run=seen))
    await restarted.run_due()
    await restarted.run_due()
    assert seen.dues == [T0, T0 + timedelta(hours=1)]
    assert len(await _runs(sessions, "minutely")) == 2


async def test_a_new_cron_job_waits_for_its_next_due_time(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(datetime(2026, 1, 1, 14, tzinfo=UTC))
    seen = Recorder()
    scheduler = Scheduler(sessions=sessions, clock=clock)
    scheduler.register(Job(name="morning", cron="0 6 * * *", tz="UTC", run=seen))
    assert await scheduler.run_due() == []  # this morning's 06:00 predates the job
    clock.advance(16 * 3600)
    await scheduler.run_due()
    assert seen.dues == [datetime(2026, 1, 2, 6, tzinfo=UTC)]


async def test_a_failing_job_is_recorded_redacted_and_the_scheduler_goes_on(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(T0)
    calls: list[datetime] = []

    async def flaky(ctx: JobContext) -> None:
        calls.append(ctx.due_at)
        if len(calls) == 1:
            raise RuntimeError("cannot reach postgresql://ops:hunter2@db:5432/x?sslkey=abc password=hunter2")

    other = Recorder()
    scheduler = Scheduler(sessions=sessions, clock=clock)
    scheduler.register(Job(name="flaky", every=timedelta(seconds=10), run=flaky))
    scheduler.register(Job(name="other", every=timedelta(seconds=10), run=other))
    with caplog.at_level(logging.ERROR, logger="fictra.jobs"):
        results = {r.job: r for r in await scheduler.run_due()}
    assert results["flaky"].outcome is Outcome.FAILED
    assert results["other"].outcome is Outcome.OK  # the same pass went on
    clock.advance(10)
    assert [r.outcome for r in await scheduler.run_due()] == [Outcome.OK, Outcome.OK]

    first, second = await _runs(sessions, "flaky")
    assert (first.outcome, second.outcome) == ("failed", "ok")
    assert first.error == "RuntimeError: cannot reach postgresql://***@db:5432/x?*** password=***"
    assert first.finished_at is not None and first.duration_seconds is not None
    assert "failed: RuntimeError: cannot reach postgresql://***@db:5432/x" in caplog.text
    assert "hunter2" not in caplog.text and "sslkey" not in caplog.text


async def test_a_job_longer_than_its_interval_does_not_overlap_itself(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(T0)
    release = asyncio.Event()
    active, dues = [0], []
    max_active = [0]

    async def slow(ctx: JobContext) -> None:
        active[0] += 1
        max_active[0] = max(max_active[0], active[0])
        dues.append(ctx.due_at)
        try:
            if len(dues) == 1:
                await release.wait()
        finally:
            active[0] -= 1

    job = Job(name="slow", every=timedelta(seconds=5), run=slow)
    here, elsewhere = Scheduler(sessions=sessions, clock=clock), Scheduler(sessions=sessions, clock=clock)
    here.register(job)
    elsewhere.register(job)
    await here.run_due(wait=False)
    for _ in range(3):  # three due times pass while the first run is still going
        clock.advance(5)
        assert await here.run_due() == []  # not in this process...
        assert await elsewhere.run_due() == []  # ...nor in another: the lease is held
    release.set()
    assert [r.due_at for r in await here.drain()] == [T0]
    clock.advance(1)
    # the latest due time that passed during the run runs once, then the schedule resumes
    assert [r.due_at for r in await elsewhere.run_due()] == [T0 + timedelta(seconds=15)]
    assert await here.run_due() == []
    assert dues == [T0, T0 + timedelta(seconds=15)] and max_active == [1]


async def test_an_expired_lease_is_taken_over_and_the_dead_run_marked(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(T0)
    hang = asyncio.Event()

    async def hangs(ctx: JobContext) -> None:
        await hang.wait()

    job = Job(name="leased", every=timedelta(seconds=10), lease=timedelta(seconds=30), run=hangs)
    dead = Scheduler(sessions=sessions, clock=clock, holder="dead:1:0000")
    dead.register(job)
    await dead.run_due(wait=False)  # claims T0, then "crashes": never renews, never finishes

    seen = Recorder()
    alive = Scheduler(sessions=sessions, clock=clock, holder="alive:2:1111")
    alive.register(Job(name="leased", every=timedelta(seconds=10), lease=timedelta(seconds=30), run=seen))
    clock.advance(20)
    assert await alive.run_due() == []  # the lease (till T0+30) still holds
    clock.advance(10)
    assert [r.due_at for r in await alive.run_due()] == [T0 + timedelta(seconds=30)]

    runs = await _runs(sessions, "leased")
    assert [(r.holder, r.outcome) for r in runs] == [("dead:1:0000", "failed"), ("alive:2:1111", "ok")]
    assert runs[0].error == "abandoned: holder dead:1:0000 lost its lease before the run finished"
    hang.set()
    await dead.drain()  # the late finish does not overwrite the record
    assert [r.outcome for r in await _runs(sessions, "leased")] == ["failed", "ok"]


async def test_a_running_job_renews_its_lease(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(T0)
    release = asyncio.Event()
    rival_runs = Recorder()

    async def long(ctx: JobContext) -> None:
        await release.wait()

    owner, rival = Scheduler(sessions=sessions, clock=clock), Scheduler(sessions=sessions, clock=clock)
    owner.register(Job(name="long", every=timedelta(hours=1), lease=timedelta(seconds=30), run=long))
    rival.register(Job(name="long", every=timedelta(hours=1), lease=timedelta(seconds=30), run=rival_runs))
    await owner.run_due(wait=False)
    for _ in range(10):  # 100 s, far past one lease: the owner's passes renew it every lease / 3
        clock.advance(10)
        await owner.run_due()
        rival.wake("long")  # a woken run needs the lease too
        assert await rival.run_due() == []
        async with sessions() as session:
            lease = await session.get(JobLease, "long")
        assert lease is not None and lease.holder == owner.holder
        assert lease.expires_at == clock.now() + timedelta(seconds=30)
    release.set()
    assert [r.outcome for r in await owner.drain()] == [Outcome.OK]
    assert rival_runs.dues == []


async def test_wake_runs_a_job_early_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(T0 + timedelta(seconds=1))
    seen = Recorder()
    scheduler = Scheduler(sessions=sessions, clock=clock)
    scheduler.register(Job(name="runner", every=timedelta(hours=1), run=seen))
    assert await scheduler.run_due() == []  # T0 predates the registration
    scheduler.wake("runner")
    scheduler.wake("runner")  # coalesced
    clock.advance(1)
    results = await scheduler.run_due()
    assert [(r.due_at, r.woken) for r in results] == [(T0 + timedelta(seconds=2), True)]
    assert await scheduler.run_due() == []
    with pytest.raises(NotFoundError, match="No job named 'nope'"):
        scheduler.wake("nope")
    assert [(r.woken, r.outcome) for r in await _runs(sessions, "runner")] == [(True, "ok")]


async def test_registering_a_name_twice_is_a_config_error(sessions: async_sessionmaker[AsyncSession]) -> None:
    scheduler = Scheduler(sessions=sessions, clock=FakeClock(T0))
    scheduler.register(Job(name="a", every=timedelta(seconds=1), run=Recorder()))
    with pytest.raises(ConfigError, match="Job 'a' is registered twice"):
        scheduler.register(Job(name="a", cron="* * * * *", run=Recorder()))


async def test_run_loop_keeps_going_after_a_failure_and_counts_metrics(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # run() sleeps on the clock; a FakeClock's sleep advances time at once, so while a run is writing
    # its record the loop may move past the next due time: assert the schedule's invariants, not a
    # cadence (tests that need every due time drive run_due)
    clock = FakeClock(T0 + timedelta(seconds=3))
    stop = asyncio.Event()
    dues: list[datetime] = []

    async def tick(ctx: JobContext) -> None:
        dues.append(ctx.due_at)
        if len(dues) == 3:
            raise ValueError("third time")
        if len(dues) == 6:
            stop.set()

    registry = CollectorRegistry()
    scheduler = Scheduler(sessions=sessions, clock=clock, metrics=JobMetrics(registry))
    scheduler.register(Job(name="loop", every=timedelta(seconds=10), run=tick))
    await asyncio.wait_for(scheduler.run(stop), timeout=60)
    assert len(dues) == 6 and dues == sorted(set(dues))
    assert all((d - T0) % timedelta(seconds=10) == timedelta(0) for d in dues)
    assert registry.get_sample_value("fictra_job_runs_total", {"job": "loop", "outcome": "ok"}) == 5
    assert registry.get_sample_value("fictra_job_runs_total", {"job": "loop", "outcome": "failed"}) == 1
    assert [r.outcome for r in await _runs(sessions, "loop")] == ["ok", "ok", "failed", "ok", "ok", "ok"]


async def test_stopping_cancels_a_hung_run_and_records_it(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(T0)
    stop = asyncio.Event()
    started = asyncio.Event()

    async def hangs(ctx: JobContext) -> None:
        started.set()
        await asyncio.Event().wait()

    scheduler = Scheduler(sessions=sessions, clock=clock, stop_grace=timedelta(seconds=5))
    scheduler.register(Job(name="hung", every=timedelta(hours=1), run=hangs))
    loop = asyncio.create_task(scheduler.run(stop))
    await asyncio.wait_for(started.wait(), timeout=10)
    stop.set()
    await asyncio.wait_for(loop, timeout=10)  # the grace passes on the clock, then the run is cancelled
    [run] = await _runs(sessions, "hung")
    assert (run.outcome, run.error) == ("failed", "cancelled: the scheduler stopped before the run finished")
    async with sessions() as session:
        lease = await session.get(JobLease, "hung")
    assert lease is not None and lease.holder is None  # freed for the next process at once
