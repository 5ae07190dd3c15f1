"""`fictra procedures ...`: list (today and the latest runs), show RUN, signoff RUN STEP --as USER, run NAME.

The CLI acts on the database. A sign-off is made as a user of ``fictra users`` (``--as``): their roles
decide, exactly as from the console or the API, and it is audited under their name. ``run`` opens the
run for the procedure's current due time and runs its automated steps when the chain answers (through the
configured endpoints and the deployment manifest; the follower's lag from the stored checkpoint); a failed
step's alert goes into the alert store. Without the chain the run is opened and its steps stay pending.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.auth.actor import Actor
from fictra.cli._common import config_set, console, settings
from fictra.cli._response import stamp
from fictra.cli.incidents_common import JSON, add_row, dump, say
from fictra.clock import SystemClock
from fictra.errors import FictraError, UsageError
from fictra.procedures.schemas import RunDetail

HELP = "Routine procedures: today's list, runs with their evidence, sign-off, run now."
app = typer.Typer(help=HELP, no_args_is_help=True)
AS = typer.Option(..., "--as", help="The user (fictra users) signing; the step's roles decide.")
T = TypeVar("T")


async def _with_sessions(fn: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    from fictra.db.engine import make_engine, migrate, session_factory

    url = settings().resolved_database_url()
    migrate(url)
    engine = make_engine(url)
    try:
        return await fn(session_factory(engine))
    finally:
        await engine.dispose()


async def _user_actor(session: AsyncSession, username: str) -> Actor:
    from fictra.auth.permissions import roles_from
    from fictra.auth.service import get_user

    user = await get_user(session, username=username)
    if user.disabled:
        raise UsageError(f"User '{username}' is disabled; act as an enabled user.")
    perms = roles_from(settings().config_dir).permissions_of(list(user.roles))
    return Actor(user.id, user.username, tuple(user.roles), perms, "cli")


def _show(run: RunDetail) -> None:
    state = "overdue" if run.overdue else run.outcome
    say(f"Run {run.id} of {run.procedure}: {run.title} [{state}]")
    say(f"  due {stamp(run.due_at)}, deadline {stamp(run.deadline)}, owner {run.owner}")
    table = Table()
    for col in ("#", "step", "kind", "result", "summary / sign-off", "evidence sha256"):
        table.add_column(col)
    for s in run.steps:
        detail = s.summary or ""
        if s.signed_by:
            detail = f"signed by {s.signed_by} {stamp(s.signed_at)}" + (f": {s.note}" if s.note else "")
        elif s.kind == "manual" and s.result == "pending":
            detail = f"{s.instruction or ''} (may sign: {', '.join(s.signoff_roles)})"
        add_row(table, str(s.position), s.name, s.kind, s.result, detail, s.evidence_sha256 or "-")
    console.print(table)


async def _detail(sessions: async_sessionmaker[AsyncSession], run_id: int) -> RunDetail:
    from fictra.procedures.queries import run_detail

    async with sessions() as session:
        return await run_detail(
            session, run_id=run_id, config=config_set().procedures, now=SystemClock().now()
        )


@app.command("list")
def list_cmd(limit: int = typer.Option(20, "--limit", min=1, max=1000), as_json: bool = JSON) -> None:
    """Today's procedures (overdue, running, due first) and the latest runs."""
    from fictra.procedures.queries import list_runs, today

    async def run(sessions: async_sessionmaker[AsyncSession]) -> Any:
        now = SystemClock().now()
        async with sessions() as session:
            return (
                await today(session, config=config_set().procedures, now=now),
                await list_runs(session, now=now, limit=limit),
            )

    items, runs = asyncio.run(_with_sessions(run))
    if as_json:
        dump({"today": [i.model_dump() for i in items], "runs": [r.model_dump() for r in runs]})
        return
    table = Table(title="Today")
    for col in ("procedure", "state", "due", "deadline", "owner", "run", "next due"):
        table.add_column(col)
    for i in items:
        run_id = f"#{i.run.id}" if i.run else "-"
        due, deadline = stamp(i.due_at), stamp(i.deadline)
        add_row(table, i.name, i.state, due, deadline, i.owner, run_id, stamp(i.next_due))
    console.print(table)
    history = Table(title="Runs")
    for col in ("#", "procedure", "due", "outcome", "finished"):
        history.add_column(col)
    for r in runs:
        outcome = "overdue" if r.overdue else r.outcome
        add_row(history, str(r.id), r.procedure, stamp(r.due_at), outcome, stamp(r.finished_at))
    console.print(history)


@app.command("show")
def show_cmd(run_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """One run: every step's result, evidence hash and sign-off."""
    detail = asyncio.run(_with_sessions(lambda sessions: _detail(sessions, run_id)))
    if as_json:
        dump(detail.model_dump())
        return
    _show(detail)


@app.command("signoff")
def signoff_cmd(
    run_id: int = typer.Argument(...),
    step: str = typer.Argument(..., help="The step's position (0, 1, ...) or name."),
    as_user: str = AS,
    note: str | None = typer.Option(None, "--note", help="What was checked; minutes and action items."),
) -> None:
    """Sign off a manual step of a run as a user whose roles the step allows."""
    from fictra.procedures.flows import sign_off_at

    async def run(sessions: async_sessionmaker[AsyncSession]) -> RunDetail:
        async with sessions.begin() as session:
            actor = await _user_actor(session, as_user)
            await sign_off_at(
                session,
                run_id=run_id,
                step=int(step) if step.isdigit() else step,
                config=config_set().procedures,
                actor=actor,
                note=note,
                clock=SystemClock(),
            )
        return await _detail(sessions, run_id)

    _show(asyncio.run(_with_sessions(run)))


async def _chain_parts(sessions: async_sessionmaker[AsyncSession]) -> tuple[Any, Any, Any]:
    """(chain view, follower status, pool to close) when the chain answers; (None, None, pool|None)
    otherwise, with the reason printed."""
    from fictra.chain.checkpoint import load_checkpoint
    from fictra.chain.follower import FollowerStatus
    from fictra.chain.manifest import Manifest
    from fictra.chain.pool import RpcPool
    from fictra.platform.assemble import endpoint_urls, manifest_path
    from fictra.procedures.chainview import PoolChainView

    config = config_set()
    try:
        manifest = Manifest.load(manifest_path(settings(), config, devnet=not config.network.manifest))
    except (FictraError, OSError, ValueError) as exc:
        say(f"No deployment manifest ({exc}); automated steps stay pending.")
        return None, None, None
    pool = RpcPool(
        network=config.network.name,
        urls=endpoint_urls(config),
        clock=SystemClock(),
        chain_id=config.network.chain_id,
    )
    try:
        await pool.start()
        view = PoolChainView(pool=pool, manifest=manifest)
        head = await view.head()
    except FictraError as exc:
        say(f"The chain does not answer ({exc.user_message}); automated steps stay pending.")
        return None, None, pool
    async with sessions() as session:
        cp = await load_checkpoint(session, network=config.network.name)
    status = (
        FollowerStatus(config.network.name, cp.number, cp.hash, head.number, max(head.number - cp.number, 0))
        if cp is not None
        else None
    )
    return view, status, pool


@app.command("run")
def run_cmd(
    name: str = typer.Argument(..., help="Procedure name (procedures.yaml)."),
    as_user: str | None = typer.Option(None, "--as", help="Record the start under this user."),
) -> None:
    """Open the run for the procedure's current due time now and run its automated steps (when the chain
    answers; otherwise they stay pending)."""
    from fictra.alerting.findings import Finding
    from fictra.alerting.service import apply_findings
    from fictra.auth.actor import cli_actor
    from fictra.procedures.flows import procedure_named, run_now
    from fictra.procedures.jobs import ProceduresContext, schedule_of
    from fictra.procedures.service import open_run

    config = config_set()
    clock = SystemClock()
    procedure_named(config.procedures, name)

    async def ingest(session: AsyncSession, findings: Sequence[Finding]) -> object:
        return await apply_findings(session, list(findings), head=None, clock=clock)

    async def run(sessions: async_sessionmaker[AsyncSession]) -> RunDetail:
        async with sessions() as session:
            actor = await _user_actor(session, as_user) if as_user else cli_actor(None)
        chain, status, pool = await _chain_parts(sessions)
        try:
            ctx = ProceduresContext(
                config=config.procedures,
                clock=clock,
                network=config.network.name,
                chain=chain,
                follower_status=lambda: status,
                ingest=ingest,
            )
            if chain is not None:
                run_id = await run_now(sessions=sessions, ctx=ctx, name=name, actor=actor)
            else:
                proc = procedure_named(config.procedures, name)
                async with sessions.begin() as session:
                    opened, _ = await open_run(
                        session,
                        procedure=proc,
                        due_at=schedule_of(proc).latest_due(clock.now()),
                        clock=clock,
                        actor=actor,
                    )
                    run_id = opened.id
        finally:
            if pool is not None:
                await pool.aclose()
        return await _detail(sessions, run_id)

    _show(asyncio.run(_with_sessions(run)))
