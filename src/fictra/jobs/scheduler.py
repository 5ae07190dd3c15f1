"""The scheduler: runs registered jobs at their due times, exactly once across processes.

One pass (:meth:`Scheduler.run_due`), for each job not already running in this process:

1. the job's latest due time at or before ``now`` (``Job.latest_due``); skipped when it is older than
   the job's first registration in this database or already handled by this process;
2. in one transaction: take the job's lease (free, ours, or expired) and insert the run record
   ``(job, due_at)`` with ``INSERT … ON CONFLICT DO NOTHING``. The insert that wins runs the due time;
   a process that loses either finds the lease busy (another process is running the job) or the
   record present (another process ran it) and rolls back;
3. the job runs as a task; the lease is renewed every ``lease / 3`` while it runs; the outcome
   (ok / failed with the redacted error), finish time and duration are written to the record and the
   lease is freed in one transaction.

Only the *latest* due time is ever considered, so after downtime (or a run that outlasted its
interval) the missed periods run once, not once each. A failing job is recorded and logged; the
scheduler keeps going. :meth:`Scheduler.run` repeats passes until ``stop`` is set, sleeping on the
injected clock until the next due time, lease renewal, or :meth:`Scheduler.wake`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import Clock
from fictra.errors import ConfigError, NotFoundError
from fictra.jobs import store
from fictra.jobs.context import JobContext
from fictra.jobs.metrics import JobMetrics
from fictra.jobs.models import Outcome
from fictra.jobs.redact import describe_error
from fictra.jobs.schedule import Job

log = logging.getLogger("fictra.jobs")

MAX_SLEEP = timedelta(seconds=60)


def new_holder() -> str:
    """This process's holder id: ``host:pid:random`` (random so a restarted pid is a new holder)."""
    return f"{socket.gethostname()[:150]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class RunResult:
    job: str
    due_at: datetime
    outcome: Outcome
    error: str | None
    duration_seconds: float
    woken: bool


@dataclass
class _State:
    job: Job
    since: datetime | None = None  # first registration in the database (from the lease row)
    handled: datetime | None = None  # latest scheduled due time claimed or found taken
    task: asyncio.Task[RunResult] | None = None
    renewed_at: datetime | None = None
    wake_pending: bool = False
    retry_at: datetime | None = None  # lease busy elsewhere or database error: try again then
    finishing: bool = False  # the outcome is being written (and the lease freed): no more renewals

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()


class Scheduler:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        holder: str | None = None,
        metrics: JobMetrics | None = None,
        retry: timedelta = timedelta(seconds=5),
        stop_grace: timedelta = timedelta(seconds=10),
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.holder = holder or new_holder()
        self.metrics = metrics
        self.retry = retry
        self.stop_grace = stop_grace
        self._states: dict[str, _State] = {}
        self._wakeup = asyncio.Event()

    # -- registration -------------------------------------------------------------------------------

    def register(self, job: Job) -> None:
        if job.name in self._states:
            raise ConfigError(f"Job '{job.name}' is registered twice; job names must be unique.")
        self._states[job.name] = _State(job=job)

    @property
    def jobs(self) -> tuple[Job, ...]:
        return tuple(s.job for s in self._states.values())

    def wake(self, name: str) -> None:
        """Run ``name`` as soon as possible, in addition to its schedule (coalesced: several wakes
        before it starts give one run; a wake while it runs gives one more run after it)."""
        state = self._states.get(name)
        if state is None:
            raise NotFoundError(f"No job named '{name}' is registered.")
        state.wake_pending = True
        self._wakeup.set()

    # -- one pass -----------------------------------------------------------------------------------

    async def run_due(self, now: datetime | None = None, *, wait: bool = True) -> list[RunResult]:
        """Start every job due at ``now`` (default: the clock's time) that this process wins.

        With ``wait`` (the default, for tests) the started runs are awaited and their results returned;
        without it they keep running as tasks (``drain`` waits for them)."""
        if now is None:
            now = self.clock.now()
        await self._renew_leases(now)
        started: list[asyncio.Task[RunResult]] = []
        for state in self._states.values():
            if state.running:
                continue  # never overlaps itself; the latest due time runs when this run ends
            try:
                task = await self._maybe_start(state, now)
            except Exception as exc:  # database trouble: log, retry later, keep the scheduler alive
                state.retry_at = now + self.retry
                log.error("job %s: cannot claim a run: %s", state.job.name, describe_error(exc))
                continue
            if task is not None:
                started.append(task)
        if not wait or not started:
            return []
        return list(await asyncio.gather(*started))

    async def drain(self) -> list[RunResult]:
        """Wait for every run started by this process to finish; their results."""
        tasks = [s.task for s in self._states.values() if s.task is not None and s.running]
        return list(await asyncio.gather(*tasks)) if tasks else []

    async def _maybe_start(self, state: _State, now: datetime) -> asyncio.Task[RunResult] | None:
        job = state.job
        if state.since is None:
            async with self.sessions() as session:
                since = await store.ensure_lease_row(session, job=job.name, now=now)
                await session.commit()
            state.since = since
        woken = state.wake_pending
        if woken:
            due = now
        else:
            due = job.latest_due(now)
            if due < state.since or (state.handled is not None and due <= state.handled):
                return None
        async with self.sessions() as session:
            claim = await store.claim(
                session,
                job=job.name,
                due_at=due,
                holder=self.holder,
                now=now,
                lease_until=now + job.lease,
                woken=woken,
            )
            if claim.run_id is not None:
                await session.commit()
            # otherwise leaving the block rolls back: the lease stays as it was
        if claim.run_id is None:
            if claim.busy_until is not None or not claim.taken:
                retry = now + self.retry
                # the holder frees the lease when done; a pending wake polls, a due time waits for expiry
                busy = claim.busy_until or retry
                state.retry_at = min(busy, retry) if woken else busy
            elif woken:
                state.wake_pending = False  # a run for this very instant exists already
            else:
                state.handled = due
            return None
        state.retry_at = None
        if woken:
            state.wake_pending = False
        else:
            state.handled = due
        state.renewed_at = now
        state.finishing = False
        ctx = JobContext(
            job=job.name,
            due_at=due,
            now=now,
            clock=self.clock,
            sessions=self.sessions,
            holder=self.holder,
            woken=woken,
        )
        state.task = asyncio.create_task(self._execute(state, ctx, claim.run_id), name=f"job:{job.name}")
        return state.task

    async def _execute(self, state: _State, ctx: JobContext, run_id: int) -> RunResult:
        job = state.job
        started = self.clock.monotonic()
        outcome, error = Outcome.OK, None
        try:
            await job.run(ctx)
        except asyncio.CancelledError:
            error = "cancelled: the scheduler stopped before the run finished"
            state.finishing = True
            await self._record(state, run_id, Outcome.FAILED, error, self.clock.monotonic() - started)
            raise
        except Exception as exc:  # a failing job is recorded and logged, never fatal
            outcome, error = Outcome.FAILED, describe_error(exc)
            log.error("job %s (due %s) failed: %s", job.name, ctx.due_at.isoformat(), error)
        duration = self.clock.monotonic() - started
        state.finishing = True
        await self._record(state, run_id, outcome, error, duration)
        self._wakeup.set()  # a due time may have passed while it ran: look again now
        return RunResult(
            job=job.name,
            due_at=ctx.due_at,
            outcome=outcome,
            error=error,
            duration_seconds=duration,
            woken=ctx.woken,
        )

    async def _record(
        self, state: _State, run_id: int, outcome: Outcome, error: str | None, duration: float
    ) -> None:
        job = state.job
        now = self.clock.now()
        try:
            async with self.sessions() as session:
                recorded = await store.finish(
                    session,
                    run_id=run_id,
                    job=job.name,
                    holder=self.holder,
                    now=now,
                    outcome=outcome,
                    error=error,
                    duration_seconds=duration,
                )
                await session.commit()
        except Exception as exc:  # the lease expires and the record is marked abandoned by the next holder
            log.error("job %s: cannot record the run's outcome: %s", job.name, describe_error(exc))
            return
        if not recorded:
            log.warning("job %s: the run outlived its lease and was taken over by another process", job.name)
        if self.metrics is not None:
            self.metrics.runs.labels(job.name, outcome.value).inc()
            self.metrics.duration_seconds.labels(job.name).observe(duration)
            if outcome is Outcome.OK:
                self.metrics.last_success.labels(job.name).set(now.timestamp())

    async def _renew_leases(self, now: datetime) -> None:
        for state in self._states.values():
            if not state.running or state.finishing or state.renewed_at is None:
                continue
            if now < state.renewed_at + state.job.lease / 3:
                continue
            try:
                async with self.sessions() as session:
                    held = await store.renew(
                        session, job=state.job.name, holder=self.holder, lease_until=now + state.job.lease
                    )
                    await session.commit()
            except Exception as exc:
                log.error("job %s: cannot renew its lease: %s", state.job.name, describe_error(exc))
                continue
            state.renewed_at = now
            if not held and not state.finishing:
                log.warning("job %s: lease lost to another process while running", state.job.name)

    # -- the loop -----------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Run passes until ``stop`` is set, then give running jobs ``stop_grace`` to finish."""
        names = ", ".join(f"{j.name} ({j.describe()})" for j in self.jobs)
        log.info("job scheduler %s started: %s", self.holder, names or "no jobs")
        try:
            while not stop.is_set():
                await self.run_due(self.clock.now(), wait=False)
                # measured after the pass: a pass that waited on a lock must not wake late next time
                if await self._sleep(stop, self._next_wake(self.clock.now())):
                    break
        finally:
            await self._shutdown()

    def _next_wake(self, now: datetime) -> float:
        times = [now + MAX_SLEEP]
        for state in self._states.values():
            if state.running and state.renewed_at is not None:
                times.append(state.renewed_at + state.job.lease / 3)
                continue
            times.append(state.job.next_due(now))
            if state.wake_pending or self._missed(state, now):
                # a due time passed during the last pass, or a wake: now, unless the lease is busy
                times.append(now if state.retry_at is None else state.retry_at)
        return max(0.0, (min(times) - now).total_seconds())

    @staticmethod
    def _missed(state: _State, now: datetime) -> bool:
        if state.since is None:
            return True
        due = state.job.latest_due(now)
        return due >= state.since and (state.handled is None or due > state.handled)

    async def _sleep(self, stop: asyncio.Event, seconds: float) -> bool:
        if not self._wakeup.is_set() and not stop.is_set():
            waiters = [
                asyncio.ensure_future(stop.wait()),
                asyncio.ensure_future(self._wakeup.wait()),
                asyncio.ensure_future(self.clock.sleep(seconds)),
            ]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        self._wakeup.clear()
        return stop.is_set()

    async def _shutdown(self) -> None:
        """Give running jobs ``stop_grace`` to finish, then cancel them (recorded as failed). A run
        already writing its outcome is never cancelled."""
        running = [s for s in self._states.values() if s.task is not None and s.running]
        tasks = [s.task for s in running if s.task is not None]
        if not tasks:
            return
        grace = asyncio.ensure_future(self.clock.sleep(self.stop_grace.total_seconds()))
        pending: set[asyncio.Future[Any]] = set(tasks)
        try:
            while pending and not grace.done():
                done, _ = await asyncio.wait({*pending, grace}, return_when=asyncio.FIRST_COMPLETED)
                pending -= done
        finally:
            grace.cancel()
        for state in running:
            if state.task is not None and not state.finishing:
                state.task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
