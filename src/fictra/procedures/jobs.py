"""Periodic procedure work: open each procedure's run on its schedule and run its automated steps; turn
runs not completed within their grace into ``missed`` with their alert.

:func:`procedure_jobs` gives one job per procedure (``procedures.<name>``, the procedure's cron and time
zone) and ``procedures.graces`` (every minute) for the caller's :class:`fictra.jobs.Scheduler`. The
caller builds :class:`ProceduresContext` with the alert pipeline's ingest function, e.g.
``lambda session, findings: pipeline.ingest(session, MonitorOutput(findings=list(findings)),
network=network, head=None)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.chain.follower import FollowerStatus
from fictra.clock import Clock
from fictra.jobs import Job, JobContext
from fictra.procedures.backup_tools import BackupTools
from fictra.procedures.chainview import ChainView
from fictra.procedures.checks import AgendaFn, CheckContext, run_check
from fictra.procedures.config import ManualStep, Procedure, ProceduresConfig
from fictra.procedures.models import StepResult
from fictra.procedures.service import Ingest, get_run, mark_missed, open_run, record_result, settle, steps_of

__all__ = ["GRACE_EVERY", "ProceduresContext", "check_graces", "due_times", "procedure_jobs", "run_due"]

log = logging.getLogger(__name__)
GRACE_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class ProceduresContext:
    """What the procedures' jobs need, built by the caller (platform assembly or a test)."""

    config: ProceduresConfig
    clock: Clock
    network: str = "devnet"
    chain: ChainView | None = None
    follower_status: Callable[[], FollowerStatus | None] | None = None
    ingest: Ingest | None = None
    backups: BackupTools | None = None  # fictra.backup's functions: backup_fresh, restore_drill
    agenda: tuple[AgendaFn, ...] = ()  # the other domains' lines for the daily meeting's agenda
    data_dir: Path | None = None  # the audit keys for audit_log / audit_proofs
    config_dir: Path | None = None  # config_drift, patch_assessment
    signer_paths: Callable[[], Sequence[tuple[str, Path, str | None]]] | None = None  # keystores check

    def checks(self, sessions: async_sessionmaker[AsyncSession]) -> CheckContext:
        return CheckContext(
            sessions=sessions,
            clock=self.clock,
            network=self.network,
            chain=self.chain,
            follower_status=self.follower_status,
            backups=self.backups,
            agenda=self.agenda,
            data_dir=self.data_dir,
            config_dir=self.config_dir,
            signer_paths=self.signer_paths,
        )


async def _noop(job: JobContext) -> None:
    return None


def schedule_of(procedure: Procedure) -> Job:
    """The procedure's schedule as a :class:`Job` (its due-time arithmetic: cron in the time zone)."""
    return Job(name=f"procedures.{procedure.name}", cron=procedure.schedule, tz=procedure.tz, run=_noop)


def due_times(procedure: Procedure, *, start: datetime, end: datetime) -> list[datetime]:
    """Due times of ``procedure`` in ``(start, end]`` (UTC)."""
    job = schedule_of(procedure)
    out: list[datetime] = []
    due = job.next_due(start)
    while due <= end:
        out.append(due)
        due = job.next_due(due)
    return out


async def run_due(
    *,
    sessions: async_sessionmaker[AsyncSession],
    ctx: ProceduresContext,
    procedure: Procedure,
    due_at: datetime,
) -> int:
    """Open (or find) the run for ``due_at`` and run its pending automated and report steps, each check
    outside any transaction and each result recorded in its own; returns the run id."""
    async with sessions.begin() as session:
        run, _ = await open_run(session, procedure=procedure, due_at=due_at, clock=ctx.clock, actor="system")
        run_id = run.id
        pending = [
            s.name for s in await steps_of(session, run_id=run_id) if s.result == StepResult.PENDING.value
        ]
    checks = ctx.checks(sessions)
    for name in pending:
        step = procedure.step(name)
        if step is None or isinstance(step, ManualStep):
            continue
        result = await run_check(step.check, ctx=checks, params=step.params)
        async with sessions.begin() as session:
            run = await get_run(session, run_id=run_id)
            await record_result(
                session,
                run=run,
                procedure=procedure,
                step_name=name,
                result=result,
                clock=ctx.clock,
                ingest=ctx.ingest,
                network=ctx.network,
            )
    async with sessions.begin() as session:
        await settle(session, run=await get_run(session, run_id=run_id), clock=ctx.clock)
    return run_id


async def check_graces(*, sessions: async_sessionmaker[AsyncSession], ctx: ProceduresContext) -> list[int]:
    """Mark every open run past its deadline missed (alert through ``ctx.ingest``); returns their ids."""
    async with sessions.begin() as session:
        runs = await mark_missed(
            session, procedures=ctx.config.procedures, clock=ctx.clock, ingest=ctx.ingest, network=ctx.network
        )
        return [r.id for r in runs]


def procedure_jobs(ctx: ProceduresContext) -> list[Job]:
    """One job per procedure on its schedule (opens the run for the job's due time and runs the
    automated steps) and ``procedures.graces`` every minute."""
    jobs: list[Job] = []
    for procedure in ctx.config.procedures:

        async def open_job(job: JobContext, procedure: Procedure = procedure) -> None:
            await run_due(sessions=job.sessions, ctx=ctx, procedure=procedure, due_at=job.due_at)

        jobs.append(
            Job(name=f"procedures.{procedure.name}", cron=procedure.schedule, tz=procedure.tz, run=open_job)
        )

    async def graces_job(job: JobContext) -> None:
        await check_graces(sessions=job.sessions, ctx=ctx)

    jobs.append(Job(name="procedures.graces", every=GRACE_EVERY, run=graces_job))
    return jobs
