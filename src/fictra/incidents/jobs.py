"""Periodic incident work, as plain "run once" functions and :class:`fictra.jobs.Job` definitions.

* :func:`run_evidence_jobs` drains the evidence jobs queued by auto-declare (RPC calls, off the
  follower's transaction): blocks, transactions, traces and contract state, hashed into the audit log.
  A failed job is retried on the next run and given up after :data:`MAX_JOB_ATTEMPTS` (on the timeline).
* :func:`send_reminders` tells the communications liaison once per missed status-update deadline.

:func:`incident_jobs` gives both as named jobs on the incidents tick interval for the caller's
scheduler; :func:`tick_once` runs both once (tests, and :func:`tick_loop` for callers without one).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import Clock, wait_or_stop
from fictra.errors import FictraError
from fictra.incidents import communications, evidence
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.events import SYSTEM, log_event
from fictra.incidents.flows import IncidentsContext
from fictra.incidents.models import IncidentJob
from fictra.jobs import Job, JobContext

__all__ = [
    "MAX_JOB_ATTEMPTS",
    "incident_jobs",
    "run_evidence_jobs",
    "send_reminders",
    "tick_loop",
    "tick_once",
]

log = logging.getLogger(__name__)
MAX_JOB_ATTEMPTS = 3
BATCH = 20


async def _run_job(
    sessions: async_sessionmaker[AsyncSession],
    job_id: int,
    *,
    pool: RpcPool | None,
    manifest: Manifest | None,
    clock: Clock,
) -> None:
    async with sessions() as session:
        job = await session.get(IncidentJob, job_id)
        if job is None or job.done_at is not None:
            return
        params: dict[str, Any] = dict(job.params or {})
        incident_id = job.incident_id
    try:
        if pool is None or manifest is None:
            raise FictraError("no RPC pool and manifest to collect evidence with")
        async with sessions.begin() as session:
            await evidence.collect(
                session,
                incident_id=incident_id,
                pool=pool,
                manifest=manifest,
                clock=clock,
                actor=SYSTEM,
                alert_ids=params.get("alert_ids"),
                trigger=str(params.get("trigger", "declaration")),
            )
            await session.execute(
                update(IncidentJob).where(IncidentJob.id == job_id).values(done_at=clock.now(), error=None)
            )
    except FictraError as exc:
        async with sessions.begin() as session:
            job = await session.get(IncidentJob, job_id)
            if job is None:
                return
            job.attempts += 1
            job.error = exc.user_message[:2000]
            if job.attempts >= MAX_JOB_ATTEMPTS:
                job.done_at = clock.now()
                await log_event(
                    session,
                    incident_id=incident_id,
                    kind="evidence",
                    actor=SYSTEM,
                    clock=clock,
                    text=f"Evidence collection gave up after {job.attempts} attempts: {job.error}",
                    details={"job_id": job_id, "error": job.error},
                )
        log.warning("incident %s evidence job %s failed: %s", incident_id, job_id, exc.user_message)


async def run_evidence_jobs(
    *,
    sessions: async_sessionmaker[AsyncSession],
    pool: RpcPool | None,
    manifest: Manifest | None,
    clock: Clock,
) -> int:
    """Run up to :data:`BATCH` pending evidence jobs, oldest first, each in its own transaction;
    returns how many were taken."""
    async with sessions() as session:
        jobs = list(
            (
                await session.execute(
                    select(IncidentJob.id)
                    .where(IncidentJob.done_at.is_(None))
                    .order_by(IncidentJob.id)
                    .limit(BATCH)
                )
            ).scalars()
        )
    for job_id in jobs:
        await _run_job(sessions, job_id, pool=pool, manifest=manifest, clock=clock)
    return len(jobs)


async def send_reminders(
    *,
    sessions: async_sessionmaker[AsyncSession],
    config: IncidentsConfig,
    clock: Clock,
    console_url: str | None,
) -> int:
    """Remind the liaison of every overdue status update (once per deadline); returns how many."""
    async with sessions.begin() as session:
        reminded = await communications.remind_overdue(
            session, config=config, clock=clock, console_url=console_url
        )
    return len(reminded)


async def tick_once(*, sessions: async_sessionmaker[AsyncSession], ctx: IncidentsContext) -> dict[str, int]:
    """One round: pending evidence jobs, then overdue-update reminders. Returns what it did."""
    jobs = await run_evidence_jobs(sessions=sessions, pool=ctx.pool, manifest=ctx.manifest, clock=ctx.clock)
    reminded = await send_reminders(
        sessions=sessions, config=ctx.config, clock=ctx.clock, console_url=ctx.console_url
    )
    return {"jobs": jobs, "reminded": reminded}


def incident_jobs(ctx: IncidentsContext) -> list[Job]:
    """``incidents.evidence`` and ``incidents.reminders`` on the configured tick interval, for the
    caller's :class:`fictra.jobs.Scheduler` (which gives each run its sessions)."""

    async def evidence_job(job: JobContext) -> None:
        await run_evidence_jobs(sessions=job.sessions, pool=ctx.pool, manifest=ctx.manifest, clock=ctx.clock)

    async def reminders_job(job: JobContext) -> None:
        await send_reminders(
            sessions=job.sessions, config=ctx.config, clock=ctx.clock, console_url=ctx.console_url
        )

    every = ctx.config.tick_interval
    return [
        Job(name="incidents.evidence", every=every, run=evidence_job),
        Job(name="incidents.reminders", every=every, run=reminders_job),
    ]


async def tick_loop(
    sessions: async_sessionmaker[AsyncSession], ctx: IncidentsContext, stop: asyncio.Event, *, interval: float
) -> None:
    """Run :func:`tick_once` every ``interval`` seconds until ``stop``; a failed round is logged, not
    fatal. For callers without a :class:`fictra.jobs.Scheduler` (prefer :func:`incident_jobs`)."""
    while True:
        try:
            await tick_once(sessions=sessions, ctx=ctx)
        except FictraError as exc:
            log.warning("incident tick failed: %s", exc.user_message)
        if await wait_or_stop(stop, interval, ctx.clock):
            return
