"""`fictra changes ...`: list, show ID, new --file, edit ID --file, submit ID, approve ID, ack ID,
schedule ID, move ID start|complete|fail|rollback, step ID PHASE POS, verify ID, review ID --file, close ID,
cancel ID, document ID [--format md|html|pdf -o FILE].

The CLI acts on the database. Writes are made as a user of ``fictra users`` (``--as``): the permission
(changes.request / approve / implement) comes from the user's roles exactly as from the API, the change's
approval rule decides whose approval counts, and everything is audited under the user's name. The CLI is
not connected to a running platform: open incidents and chain values read as empty (said on every write),
so on-chain steps are proposed from the console or API of ``fictra up``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
import yaml
from pydantic import BaseModel, ValidationError
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.auth.actor import Actor
from fictra.changes.context import OFFLINE_NOTE, ChangesContext
from fictra.cli._common import config_set, console, settings
from fictra.cli.incidents_common import JSON, add_row, dump, say
from fictra.clock import SystemClock
from fictra.errors import PermissionDeniedError, UsageError

HELP = "Change requests: list, show, new, edit, submit, approve, acknowledge conflicts, schedule, steps."
app = typer.Typer(help=HELP, no_args_is_help=True)
AS = typer.Option(..., "--as", help="The user (fictra users) acting; their roles decide.")
FILE = typer.Option(..., "--file", "-f", help="The change's content (YAML or JSON; docs/changes.md).")
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
Write = Callable[[AsyncSession, ChangesContext, Actor], Awaitable[int]]


def _context() -> ChangesContext:
    from fictra.changes.assess import watchers
    from fictra.changes.context import offline_context

    cs = config_set()
    return offline_context(config=cs.changes, clock=SystemClock(), watched_by=watchers(cs.monitors, cs.rules))


async def _with_sessions(fn: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    from fictra.cli._schema import ensure_schema
    from fictra.db.engine import make_engine, session_factory

    s = settings()
    url = s.resolved_database_url()
    ensure_schema(url, s.data_dir)  # no Alembic when the schema is known current (each command is a process)
    engine = make_engine(url)
    try:
        return await fn(session_factory(engine))
    finally:
        await engine.dispose()


async def _actor(session: AsyncSession, username: str, permission: str) -> Actor:
    from fictra.auth.permissions import roles_from
    from fictra.auth.service import get_user

    user = await get_user(session, username=username)
    if user.disabled:
        raise UsageError(f"User '{username}' is disabled; act as an enabled user.")
    perms = roles_from(settings().config_dir).permissions_of(list(user.roles))
    actor = Actor(user.id, user.username, tuple(user.roles), perms, "cli")
    if not actor.can(permission):
        raise PermissionDeniedError(
            f"User '{username}' lacks {permission} (roles: {', '.join(user.roles) or 'none'})."
        )
    return actor


def _load_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"Cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold a mapping (the change's fields).")
    return data


def _parse(model: type[M], path: Path) -> M:
    data = _load_file(path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()
        )
        raise UsageError(f"{path}: {problems}") from None


async def _detail(sessions: async_sessionmaker[AsyncSession], change_id: int) -> dict[str, Any]:
    from fictra.changes.context import detail

    async with sessions() as session:
        return await detail(session, change_id=change_id, clock=SystemClock())


def _show(d: dict[str, Any]) -> None:
    say(f"Change {d['id']} [{d['state']}] {d['type']} {d['category']}: {d['title']}")
    slot = f"{d['planned_start'] or '-'} to {d['planned_end'] or '-'}"
    say(f"  requester {d['requester']}, components {', '.join(d['components']) or '-'}, "
        f"risk {d['risk'] or 'not evaluated'}, slot {slot}")  # fmt: skip
    say(f"  content {d['content_hash'][:12]}")
    if d["rule"]:
        st = d["approval_status"]
        say(f"  approvals: {'satisfied' if st['satisfied'] else 'missing ' + ', '.join(st['missing'])}")
    for a in d["approvals"]:
        say(f"    {a['approver']} as {', '.join(a['roles'])}" + ("" if a["current"] else " (void: edited)"))
    for c in d["conflicts"] or []:
        acked = c["text"] in set((d["conflicts_ack"] or {}).get("texts", []))
        say(f"  conflict: {c['text']}" + (" (acknowledged)" if acked else ""))
    table = Table(title="Steps")
    for col in ("phase", "#", "step", "action", "done"):
        table.add_column(col)
    for s in d["steps"]:
        action = f"{s['action_kind']} #{s['action_id'] or '-'}" if s["action_kind"] else "-"
        done = f"{s['done_by']} {s['done_at']}" if s["done_at"] else "-"
        add_row(table, s["phase"], str(s["position"]), s["text"], action, done)
    console.print(table)
    for n in d["machine"]["next"]:
        why = "possible" if n["possible"] else "waits for: " + "; ".join(n["missing"])
        say(f"  next: {n['action']} -> {n['to']} ({why})")


def _write(change_id: int | None, as_user: str, permission: str, fn: Write) -> None:
    async def run(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
        ctx = _context()
        async with sessions.begin() as session:
            actor = await _actor(session, as_user, permission)
            done_id = await fn(session, ctx, actor)
        return await _detail(sessions, done_id if change_id is None else change_id)

    _show(asyncio.run(_with_sessions(run)))
    say(f"(the CLI is {OFFLINE_NOTE})")


@app.command("list")
def list_cmd(
    state: str | None = typer.Option(None, "--state"),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    as_json: bool = JSON,
) -> None:
    """Change requests, newest first."""
    from fictra.changes.context import list_changes

    async def run(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            return await list_changes(session, state=state, limit=limit)

    items = asyncio.run(_with_sessions(run))
    if as_json:
        dump(items)
        return
    table = Table()
    for col in ("#", "state", "type", "risk", "title", "components", "start"):
        table.add_column(col)
    for c in items:
        add_row(table, str(c["id"]), c["state"], c["type"], c["risk"] or "-", c["title"],
                ", ".join(c["components"]), c["planned_start"] or "-")  # fmt: skip
    console.print(table)


@app.command("show")
def show_cmd(change_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """One change: content, approvals, conflicts, steps and what each next action waits for."""
    d = asyncio.run(_with_sessions(lambda sessions: _detail(sessions, change_id)))
    if as_json:
        dump(d)
        return
    _show(d)


@app.command("new")
def new_cmd(as_user: str = AS, file: Path = FILE) -> None:
    """Request a change (draft) from a YAML/JSON file of its content."""
    from fictra.changes.schemas import ChangeInput
    from fictra.changes.service import create

    data = _parse(ChangeInput, file)

    async def fn(session: AsyncSession, ctx: ChangesContext, actor: Actor) -> int:
        return (await create(session, cfg=ctx.config, data=data, actor=actor, clock=ctx.clock)).id

    _write(None, as_user, "changes.request", fn)


@app.command("edit")
def edit_cmd(change_id: int = typer.Argument(...), as_user: str = AS, file: Path = FILE) -> None:
    """Replace the change's content (voids every approval)."""
    from fictra.changes.schemas import ChangeInput
    from fictra.changes.service import edit

    data = _parse(ChangeInput, file)

    async def fn(session: AsyncSession, ctx: ChangesContext, actor: Actor) -> int:
        await edit(session, cfg=ctx.config, change_id=change_id, data=data, actor=actor, clock=ctx.clock)
        return change_id

    _write(change_id, as_user, "changes.request", fn)


@app.command("submit")
def submit_cmd(
    change_id: int = typer.Argument(...),
    as_user: str = AS,
    answer: list[str] = typer.Option([], "--answer", help="Risk question: ID=yes|no (repeat)."),
) -> None:
    """Move a change towards authorization: submit a draft, assess it with the answers given (--answer),
    then request authorization (normal and emergency changes), as far as the state machine allows."""
    from fictra.changes.assess import assess
    from fictra.changes.records import load
    from fictra.changes.service import transition

    answers: dict[str, bool] = {}
    for item in answer:
        key, _, value = item.partition("=")
        if value.lower() not in ("yes", "no", "true", "false"):
            raise UsageError(f"--answer {item!r}: give ID=yes or ID=no.")
        answers[key] = value.lower() in ("yes", "true")

    async def fn(session: AsyncSession, ctx: ChangesContext, actor: Actor) -> int:
        kw: dict[str, Any] = {"cfg": ctx.config, "change_id": change_id, "actor": actor, "clock": ctx.clock}
        change = await load(session, change_id)
        if change.state == "draft" and change.type != "emergency":
            change = await transition(session, action="submit", **kw)
        if answers:
            change = await assess(session, answers=answers, watched_by=ctx.watched_by,
                                  incidents_on=ctx.incidents_on, **kw)  # fmt: skip
        if change.type != "standard" and change.state in ("draft", "assessment") and change.risk:
            await transition(session, action="request_authorization", **kw)
        elif change.type == "emergency" and change.state == "draft":
            await transition(session, action="request_authorization", **kw)
        return change_id

    _write(change_id, as_user, "changes.request", fn)


@app.command("approve")
def approve_cmd(
    change_id: int = typer.Argument(...),
    as_user: str = AS,
    content_hash: str = typer.Option(..., "--hash", help="The content hash you reviewed (changes show)."),
) -> None:
    """Approve the content you reviewed (its hash; a prefix of 12+ characters is enough)."""
    from fictra.changes.records import load
    from fictra.changes.service import approve

    async def fn(session: AsyncSession, ctx: ChangesContext, actor: Actor) -> int:
        current = (await load(session, change_id)).content_hash
        given = current if len(content_hash) >= 12 and current.startswith(content_hash) else content_hash
        await approve(session, change_id=change_id, content_hash=given, actor=actor, clock=ctx.clock)
        return change_id

    _write(change_id, as_user, "changes.approve", fn)


@app.command("ack")
def ack_cmd(
    change_id: int = typer.Argument(...), as_user: str = AS, note: str | None = typer.Option(None, "--note")
) -> None:
    """Acknowledge the change's scheduling conflicts as they are now (an approver of its rule)."""
    from fictra.changes.schedule import acknowledge

    async def fn(session: AsyncSession, ctx: ChangesContext, actor: Actor) -> int:
        await acknowledge(session, cfg=ctx.config, change_id=change_id, incidents_on=ctx.incidents_on,
                          actor=actor, clock=ctx.clock, note=note)  # fmt: skip
        return change_id

    _write(change_id, as_user, "changes.approve", fn)


@app.command("schedule")
def schedule_cmd(change_id: int = typer.Argument(...), as_user: str = AS) -> None:
    """Schedule the change (refused while a conflict is not acknowledged)."""
    from fictra.changes.schedule import schedule

    async def fn(session: AsyncSession, ctx: ChangesContext, actor: Actor) -> int:
        await schedule(session, cfg=ctx.config, change_id=change_id, incidents_on=ctx.incidents_on,
                       actor=actor, clock=ctx.clock)  # fmt: skip
        return change_id

    _write(change_id, as_user, "changes.request", fn)


@app.command("move")
def move_cmd(
    change_id: int = typer.Argument(...),
    action: str = typer.Argument(..., help="start, complete, fail or rollback"),
    as_user: str = AS,
    reason: str | None = typer.Option(None, "--reason"),
) -> None:
    """Implementation transitions: start, complete, fail, rollback."""
    from fictra.changes.service import transition

    if action not in ("start", "complete", "fail", "rollback"):
        raise UsageError(f"Unknown action '{action}'; give start, complete, fail or rollback.")

    async def fn(session: AsyncSession, ctx: ChangesContext, actor: Actor) -> int:
        await transition(session, cfg=ctx.config, change_id=change_id, action=action, actor=actor,
                         clock=ctx.clock, reason=reason)  # fmt: skip
        return change_id

    _write(change_id, as_user, "changes.implement", fn)


@app.command("step")
def step_cmd(
    change_id: int = typer.Argument(...),
    position: int = typer.Argument(..., min=0),
    as_user: str = AS,
    phase: str = typer.Option("implement", "--phase", help="implement or rollback"),
    note: str | None = typer.Option(None, "--note"),
) -> None:
    """Tick an implementation (or rollback) step done."""
    from fictra.changes.implement import complete_step

    if phase not in ("implement", "rollback"):
        raise UsageError(f"Unknown phase '{phase}'; give implement or rollback.")

    async def fn(session: AsyncSession, ctx: ChangesContext, actor: Actor) -> int:
        await complete_step(session, change_id=change_id, phase=phase, position=position, note=note,
                            actor=actor, clock=ctx.clock)  # fmt: skip
        return change_id

    _write(change_id, as_user, "changes.implement", fn)


@app.command("verify")
def verify_cmd(
    change_id: int = typer.Argument(...),
    as_user: str = AS,
    signoff: list[str] = typer.Option([], "--signoff", help="Manual check: NAME=yes|no (repeat)."),
) -> None:
    """Record manual sign-offs and run the checks (chain values are not read from the CLI)."""
    from fictra.changes.implement import verify

    signoffs = {}
    for item in signoff:
        name, _, value = item.rpartition("=")
        signoffs[name] = value.lower() in ("yes", "true")

    async def fn(session: AsyncSession, ctx: ChangesContext, actor: Actor) -> int:
        await verify(session, change_id=change_id, read_values=ctx.read_values, signoffs=signoffs,
                     actor=actor, clock=ctx.clock)  # fmt: skip
        return change_id

    _write(change_id, as_user, "changes.implement", fn)


@app.command("review")
def review_cmd(change_id: int = typer.Argument(...), as_user: str = AS, file: Path = FILE) -> None:
    """Record the post-implementation review from a YAML/JSON file."""
    from fictra.changes.review import record_review
    from fictra.changes.schemas import ReviewInput

    data = _parse(ReviewInput, file)

    async def fn(session: AsyncSession, ctx: ChangesContext, actor: Actor) -> int:
        await record_review(session, change_id=change_id, review=data, actor=actor, clock=ctx.clock)
        return change_id

    _write(change_id, as_user, "changes.request", fn)


def _simple(action: str, help_text: str) -> None:
    def cmd(
        change_id: int = typer.Argument(...),
        as_user: str = AS,
        reason: str | None = typer.Option(None, "--reason"),
    ) -> None:
        from fictra.changes.service import transition

        async def fn(session: AsyncSession, ctx: ChangesContext, actor: Actor) -> int:
            await transition(session, cfg=ctx.config, change_id=change_id, action=action, actor=actor,
                             clock=ctx.clock, reason=reason)  # fmt: skip
            return change_id

        _write(change_id, as_user, "changes.request", fn)

    cmd.__doc__ = help_text
    app.command(action)(cmd)


_simple("close", "Close the change (needs the post-implementation review).")
_simple("cancel", "Cancel an open change.")


@app.command("document")
def document_cmd(
    change_id: int = typer.Argument(...),
    fmt: str = typer.Option("md", "--format", help="md, html or pdf."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file (pdf needs one)."),
) -> None:
    """The runbook's "Change Requests" document of the change (Markdown, HTML or PDF)."""
    from fictra.changes.document import FORMATS, render

    if fmt not in FORMATS:
        raise UsageError(f"--format '{fmt}' is not one of: {', '.join(FORMATS)}.")
    if fmt == "pdf" and output is None:
        raise UsageError("A PDF goes to a file: give --output FILE.")

    async def run(sessions: async_sessionmaker[AsyncSession]) -> bytes:
        async with sessions() as session:
            return await render(session, change_id, fmt, clock=SystemClock())

    data = asyncio.run(_with_sessions(run))
    if output is None:
        typer.echo(data.decode())
        return
    output.write_bytes(data)
    say(f"Wrote {output} ({len(data)} bytes).")
