"""Run records and leases in the database: the only place that writes ``job_runs`` / ``job_leases``.

Every write transaction starts with a write (UPDATE/INSERT) so SQLite takes its write lock up front
(no deferred-transaction upgrade that could fail with "database is locked"), and PostgreSQL row locks
serialise two processes racing for the same lease: the second UPDATE waits, re-reads the committed row
and matches nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.jobs.models import JobLease, JobRun, Outcome

ABANDONED = "abandoned: holder {holder} lost its lease before the run finished"


@dataclass(frozen=True)
class Claim:
    """The outcome of trying to run (job, due_at): ``run_id`` when this process won it."""

    run_id: int | None = None
    taken: bool = False  # the due time already has a run record (here or elsewhere)
    busy_until: datetime | None = None  # the lease is held by another live holder until then


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def ensure_lease_row(session: AsyncSession, *, job: str, now: datetime) -> datetime:
    """Create the job's lease row on first registration; return ``since`` (first registration)."""
    insert = pg_insert if _is_postgres(session) else sqlite_insert
    stmt = insert(JobLease).values(job=job, holder=None, expires_at=None, since=now)
    await session.execute(stmt.on_conflict_do_nothing(index_elements=["job"]))
    since = (await session.execute(select(JobLease.since).where(JobLease.job == job))).scalar_one()
    return since


async def claim(
    session: AsyncSession,
    *,
    job: str,
    due_at: datetime,
    holder: str,
    now: datetime,
    lease_until: datetime,
    woken: bool = False,
) -> Claim:
    """Take the job's lease and insert the run record for ``due_at``, in the caller's transaction.

    The caller commits when ``run_id`` is set and rolls back otherwise (the lease then stays as it
    was). Runs left ``running`` by a holder whose lease expired are marked failed (abandoned)."""
    took = await session.execute(
        update(JobLease)
        .where(
            JobLease.job == job,
            or_(JobLease.holder.is_(None), JobLease.holder == holder, JobLease.expires_at <= now),
        )
        .values(holder=holder, expires_at=lease_until)
        .returning(JobLease.job)
    )
    if took.first() is None:
        row = (
            await session.execute(select(JobLease.expires_at).where(JobLease.job == job))
        ).scalar_one_or_none()
        return Claim(busy_until=row)
    insert = pg_insert if _is_postgres(session) else sqlite_insert
    stmt = (
        insert(JobRun)
        .values(
            job=job,
            due_at=due_at,
            woken=woken,
            holder=holder,
            started_at=now,
            outcome=Outcome.RUNNING.value,
        )
        .on_conflict_do_nothing(index_elements=["job", "due_at"])
        .returning(JobRun.id)
    )
    inserted = (await session.execute(stmt)).first()
    if inserted is None:
        return Claim(taken=True)
    # we hold the lease: any other holder's run still marked running was cut off
    stale = (
        await session.execute(
            select(JobRun.id, JobRun.holder).where(
                JobRun.job == job, JobRun.outcome == Outcome.RUNNING.value, JobRun.holder != holder
            )
        )
    ).all()
    for run_id, old_holder in stale:
        await session.execute(
            update(JobRun)
            .where(JobRun.id == run_id, JobRun.outcome == Outcome.RUNNING.value)
            .values(outcome=Outcome.FAILED.value, finished_at=now, error=ABANDONED.format(holder=old_holder))
        )
    return Claim(run_id=int(inserted[0]))


async def renew(session: AsyncSession, *, job: str, holder: str, lease_until: datetime) -> bool:
    """Push the lease's expiry out; False when this holder no longer holds it (taken over)."""
    result = await session.execute(
        update(JobLease)
        .where(JobLease.job == job, JobLease.holder == holder)
        .values(expires_at=lease_until)
        .returning(JobLease.job)
    )
    return result.first() is not None


async def finish(
    session: AsyncSession,
    *,
    run_id: int,
    job: str,
    holder: str,
    now: datetime,
    outcome: Outcome,
    error: str | None,
    duration_seconds: float,
) -> bool:
    """Record the run's outcome and free the lease. False when the run had been marked abandoned by a
    process that took the lease over (its record is then left as that process wrote it)."""
    result = await session.execute(
        update(JobRun)
        .where(and_(JobRun.id == run_id, JobRun.outcome == Outcome.RUNNING.value))
        .values(outcome=outcome.value, finished_at=now, error=error, duration_seconds=duration_seconds)
        .returning(JobRun.id)
    )
    recorded = result.first() is not None
    await session.execute(
        update(JobLease)
        .where(JobLease.job == job, JobLease.holder == holder)
        .values(holder=None, expires_at=None)
    )
    return recorded


async def recent_runs(session: AsyncSession, *, job: str | None = None, limit: int = 50) -> list[JobRun]:
    """The latest run records, newest due time first (for status pages and tests)."""
    query = select(JobRun).order_by(JobRun.due_at.desc(), JobRun.id.desc()).limit(limit)
    if job is not None:
        query = query.where(JobRun.job == job)
    return list((await session.execute(query)).scalars())


async def prune_runs(session: AsyncSession, *, before: datetime) -> int:
    """Delete run records due before ``before``, always keeping each job's latest one (it is what tells
    the scheduler that job's most recent due time has run: without it a monthly job would run again)."""
    latest = select(func.max(JobRun.id)).group_by(JobRun.job)
    result = await session.execute(delete(JobRun).where(JobRun.due_at < before, JobRun.id.not_in(latest)))
    return int(getattr(result, "rowcount", 0) or 0)


async def release_all_leases(session: AsyncSession) -> int:
    """Free every held lease (a database restored from a backup carries the leases of the site it was
    taken from, which no longer runs on it); returns how many were held."""
    result = await session.execute(
        update(JobLease).where(JobLease.holder.is_not(None)).values(holder=None, expires_at=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)
