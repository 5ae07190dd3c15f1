"""What the interfaces (API, CLI, console) do with a procedure: sign off a run's step by its position, and
start the run for a procedure's current due time now (by a person, audited under their name)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.auth.actor import Actor
from fictra.clock import Clock
from fictra.errors import ConflictError, NotFoundError
from fictra.procedures.config import Procedure, ProceduresConfig
from fictra.procedures.jobs import ProceduresContext, run_due, schedule_of
from fictra.procedures.models import ProcedureStep
from fictra.procedures.service import get_run, open_run, sign_off, steps_of

__all__ = ["procedure_named", "run_now", "sign_off_at"]


def procedure_named(config: ProceduresConfig, name: str) -> Procedure:
    proc = config.get(name)
    if proc is None:
        known = ", ".join(p.name for p in config.procedures) or "none"
        raise NotFoundError(f"No procedure named '{name}' in procedures.yaml; known: {known}.")
    return proc


async def sign_off_at(
    session: AsyncSession,
    *,
    run_id: int,
    step: int | str,
    config: ProceduresConfig,
    actor: Actor,
    note: str | None,
    clock: Clock,
) -> ProcedureStep:
    """Sign off step ``step`` (its position in the run, or its name) of run ``run_id``; the service
    decides whether ``actor``'s roles may (:func:`fictra.procedures.service.sign_off`)."""
    run = await get_run(session, run_id=run_id)
    proc = config.get(run.procedure)
    if proc is None:
        raise ConflictError(
            f"Procedure '{run.procedure}' of run {run_id} is no longer in procedures.yaml: its steps' "
            "sign-off roles are unknown, so nothing can be signed off."
        )
    rows = await steps_of(session, run_id=run_id)
    found = next((s for s in rows if (s.position == step if isinstance(step, int) else s.name == step)), None)
    if found is None:
        names = ", ".join(f"{s.position}:{s.name}" for s in rows)
        raise NotFoundError(f"Run {run_id} has no step {step!r}; its steps: {names}.")
    return await sign_off(
        session, run_id=run_id, step_name=found.name, procedure=proc, actor=actor, note=note, clock=clock
    )


async def run_now(
    *, sessions: async_sessionmaker[AsyncSession], ctx: ProceduresContext, name: str, actor: Actor
) -> int:
    """Open (audited under ``actor``) or find the run of procedure ``name`` for its current due time (the
    latest at or before now) and run its pending automated and report steps; returns the run id."""
    proc = procedure_named(ctx.config, name)
    due = schedule_of(proc).latest_due(ctx.clock.now())
    async with sessions.begin() as session:
        await open_run(session, procedure=proc, due_at=due, clock=ctx.clock, actor=actor)
    return await run_due(sessions=sessions, ctx=ctx, procedure=proc, due_at=due)
