"""The procedures API (prefix /api/v1/procedures): today's procedures, runs with their evidence, sign-off.

GET    /procedures                                  today: due, running, overdue, done    procedures.read
GET    /procedures/runs?procedure=&limit=           runs, newest first                    procedures.read
GET    /procedures/runs/{id}                        steps, results, evidence + sha256     procedures.read
POST   /procedures/runs/{id}/steps/{index}/signoff  {note}: sign off a manual step        procedures.signoff
POST   /procedures/{name}/run                       run the current due time's run now    procedures.signoff

The step's ``signoff_roles`` decide who may sign (403 with the roles it needs otherwise; 409 on a run
already completed or missed, or a step already signed). Running a procedure needs the running platform
(its RPC pool, follower and alert pipeline): without it the answer is 409 (as actions without a runner).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from fictra.api.deps import DbSession, app_context, guarded
from fictra.auth.deps import Actor, current_actor
from fictra.clock import Clock
from fictra.errors import ConflictError
from fictra.procedures.config import ProceduresConfig
from fictra.procedures.flows import procedure_named, run_now, sign_off_at
from fictra.procedures.jobs import ProceduresContext
from fictra.procedures.queries import MAX_LIMIT, list_runs, run_detail, today
from fictra.procedures.schemas import ProcedureToday, RunDetail, RunSummary
from fictra.procedures.service import MAX_NOTE

router = APIRouter(prefix="/api/v1/procedures", tags=["procedures"])
CurrentActor = Annotated[Actor, Depends(current_actor)]
MAX_ID = 2**31 - 1
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
RunId = Annotated[int, Path(ge=1, le=MAX_ID, description="Procedure run id.")]
StepIndex = Annotated[int, Path(ge=0, le=1000, description="The step's position in the run (from 0).")]
Name = Annotated[str, Path(pattern=NAME_PATTERN, description="Procedure name (procedures.yaml).")]


def running_context(request: Request) -> ProceduresContext | None:
    """The running platform's procedures context (``Platform.procedures``), if there is one."""
    platform = app_context(request).platform
    found = getattr(platform, "procedures", None) if platform is not None else None
    return found if isinstance(found, ProceduresContext) else None


def procedures_config(request: Request) -> ProceduresConfig:
    ctx = running_context(request)
    return ctx.config if ctx is not None else app_context(request).config_set.procedures


def procedures_clock(request: Request) -> Clock:
    ctx = running_context(request)
    return ctx.clock if ctx is not None else app_context(request).clock


Config = Annotated[ProceduresConfig, Depends(procedures_config)]
Clocked = Annotated[Clock, Depends(procedures_clock)]


class SignoffBody(BaseModel):
    note: str | None = Field(default=None, max_length=MAX_NOTE)


@router.get("", summary="Today's procedures: due, running, overdue, done", **guarded("procedures.read"))
async def procedures_today(session: DbSession, config: Config, clock: Clocked) -> list[ProcedureToday]:
    return await today(session, config=config, now=clock.now())


@router.get("/runs", summary="Procedure runs, newest first", **guarded("procedures.read"))
async def procedures_runs(
    session: DbSession,
    clock: Clocked,
    procedure: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[RunSummary]:
    return await list_runs(session, now=clock.now(), procedure=procedure, limit=limit)


@router.get(
    "/runs/{run_id}",
    summary="One run: steps, results, evidence and its SHA-256, sign-offs",
    **guarded("procedures.read"),
)
async def procedures_run(session: DbSession, config: Config, clock: Clocked, run_id: RunId) -> RunDetail:
    return await run_detail(session, run_id=run_id, config=config, now=clock.now())


@router.post(
    "/runs/{run_id}/steps/{index}/signoff",
    summary="Sign off a manual step (the step's roles decide who may)",
    **guarded("procedures.signoff"),
)
async def procedures_signoff(
    session: DbSession,
    config: Config,
    clock: Clocked,
    actor: CurrentActor,
    run_id: RunId,
    index: StepIndex,
    body: SignoffBody,
) -> RunDetail:
    await sign_off_at(
        session, run_id=run_id, step=index, config=config, actor=actor, note=body.note, clock=clock
    )
    await session.flush()
    return await run_detail(session, run_id=run_id, config=config, now=clock.now())


@router.post(
    "/{name}/run",
    summary="Start the run for the procedure's current due time now (automated steps run)",
    **guarded("procedures.signoff"),
)
async def procedures_run_now(request: Request, actor: CurrentActor, name: Name) -> RunDetail:
    procedure_named(procedures_config(request), name)  # an unknown name is 404 with or without a platform
    ctx = running_context(request)
    if ctx is None:
        raise ConflictError(
            "Running a procedure needs the running platform (fictra up): its checks read the chain, the "
            "follower and the alert store. Use `fictra procedures run` from the platform's host instead."
        )
    sessions = app_context(request).sessions
    run_id = await run_now(sessions=sessions, ctx=ctx, name=name, actor=actor)
    async with sessions() as session:
        return await run_detail(session, run_id=run_id, config=ctx.config, now=ctx.clock.now())
