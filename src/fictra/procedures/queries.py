"""Read models of procedures: today's procedures (due, running, overdue, done), runs newest first, one
run with its steps and evidence. What the API, the CLI and the console show."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.errors import UsageError
from fictra.procedures.config import ManualStep, ProceduresConfig
from fictra.procedures.jobs import schedule_of
from fictra.procedures.models import Outcome, ProcedureRun
from fictra.procedures.schemas import ProcedureToday, RunDetail, RunSummary, State, StepView
from fictra.procedures.service import get_run, steps_of

__all__ = ["MAX_LIMIT", "list_runs", "run_detail", "today"]

MAX_LIMIT = 1000


def summary(run: ProcedureRun, *, now: datetime) -> RunSummary:
    view = RunSummary.model_validate(run)
    view.overdue = run.outcome == Outcome.OPEN.value and run.deadline <= now
    return view


async def _latest(session: AsyncSession, name: str) -> ProcedureRun | None:
    stmt = (
        select(ProcedureRun)
        .where(ProcedureRun.procedure == name)
        .order_by(ProcedureRun.due_at.desc(), ProcedureRun.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def _for_due(session: AsyncSession, name: str, due_at: datetime) -> ProcedureRun | None:
    stmt = select(ProcedureRun).where(ProcedureRun.procedure == name, ProcedureRun.due_at == due_at)
    return (await session.execute(stmt)).scalar_one_or_none()


def _state(run: ProcedureRun | None, *, deadline: datetime, now: datetime) -> State:
    if run is None:
        return "due" if now < deadline else "not_opened"
    if run.outcome == Outcome.OPEN.value:
        return "running" if now < run.deadline else "overdue"
    if run.outcome == Outcome.COMPLETED.value:
        return "completed"
    if run.outcome == Outcome.FAILED.value:
        return "failed"
    return "missed"


async def today(session: AsyncSession, *, config: ProceduresConfig, now: datetime) -> list[ProcedureToday]:
    """Every configured procedure at ``now``: its current due time (the latest at or before now), the
    run for that due time if any and the state it gives, and its latest run. Overdue first, then
    running and due, then the others, each by due time."""
    out: list[ProcedureToday] = []
    for proc in config.procedures:
        job = schedule_of(proc)
        due = job.latest_due(now)
        run = await _for_due(session, proc.name, due)
        latest = await _latest(session, proc.name)
        out.append(
            ProcedureToday(
                name=proc.name,
                title=proc.title,
                schedule=proc.schedule,
                tz=proc.tz,
                owner=proc.owner,
                due_at=due,
                deadline=due + proc.grace,
                next_due=job.next_due(now),
                state=_state(run, deadline=due + proc.grace, now=now),
                run=summary(run, now=now) if run is not None else None,
                latest_run=summary(latest, now=now) if latest is not None else None,
            )
        )
    order = {"overdue": 0, "running": 1, "due": 2}
    return sorted(out, key=lambda p: (order.get(p.state, 3), p.due_at, p.name))


async def list_runs(
    session: AsyncSession, *, now: datetime, procedure: str | None = None, limit: int = 100
) -> list[RunSummary]:
    """Runs newest first (by due time), of one procedure when ``procedure`` is given."""
    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"limit {limit} must be between 1 and {MAX_LIMIT}.")
    stmt = select(ProcedureRun)
    if procedure is not None:
        stmt = stmt.where(ProcedureRun.procedure == procedure)
    stmt = stmt.order_by(ProcedureRun.due_at.desc(), ProcedureRun.id.desc()).limit(limit)
    return [summary(r, now=now) for r in (await session.execute(stmt)).scalars()]


async def run_detail(
    session: AsyncSession, *, run_id: int, config: ProceduresConfig, now: datetime
) -> RunDetail:
    """One run with every step's result, evidence and its SHA-256, and sign-offs; manual steps carry
    their instruction and sign-off roles from the config (none when the procedure left the config)."""
    run = await get_run(session, run_id=run_id)
    proc = config.get(run.procedure)
    steps: list[StepView] = []
    for row in await steps_of(session, run_id=run_id):
        view = StepView.model_validate(row)
        cfg = proc.step(row.name) if proc is not None else None
        if isinstance(cfg, ManualStep):
            view.instruction = cfg.instruction
            view.signoff_roles = list(cfg.signoff_roles)
            view.agenda = list(cfg.agenda)
        steps.append(view)
    return RunDetail(**summary(run, now=now).model_dump(), steps=steps)
