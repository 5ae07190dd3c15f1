"""`fictra tickets ...`: list, show ID, reply ID TEXT, note ID TEXT, assign ID USER, state ID STATE.

The CLI acts on the database. Writes are made as a user of ``fictra users`` (``--as``): they need
``tickets.manage`` through the user's roles, exactly as from the console or the API, and are audited under
the user's name. A reply is queued in the outbox; the running platform delivers it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.auth.actor import Actor
from fictra.cli._common import config_set, console, settings
from fictra.cli._response import stamp
from fictra.cli.incidents_common import JSON, add_row, dump, say
from fictra.clock import SystemClock
from fictra.errors import PermissionDeniedError, UsageError
from fictra.support.schemas import TicketDetail, TicketSummary

HELP = "Support tickets: list, show, reply to the requester, internal notes, assign, change state."
app = typer.Typer(help=HELP, no_args_is_help=True)
AS = typer.Option(..., "--as", help="The user (fictra users) acting; needs tickets.manage.")
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


async def _manager(session: AsyncSession, username: str) -> Actor:
    from fictra.auth.permissions import roles_from
    from fictra.auth.service import get_user

    user = await get_user(session, username=username)
    if user.disabled:
        raise UsageError(f"User '{username}' is disabled; act as an enabled user.")
    actor = Actor(
        user.id,
        user.username,
        tuple(user.roles),
        roles_from(settings().config_dir).permissions_of(list(user.roles)),
        "cli",
    )
    if not actor.can("tickets.manage"):
        raise PermissionDeniedError(
            f"User '{username}' lacks tickets.manage (roles: {', '.join(user.roles)})."
        )
    return actor


def _show(t: TicketDetail) -> None:
    say(f"Ticket #{t.id}: {t.title} [{t.state}, {t.priority}, {t.category}]")
    say(f"  requester {t.requester_name} <{t.requester_email}>, participant {t.participant or '-'}")
    say(f"  assignee {t.assignee or '-'}, source {t.source}, opened {stamp(t.created_at)}")
    for name, c in (("first response", t.first_response), ("resolution", t.resolution)):
        say(f"  {name}: due {stamp(c.deadline)} ({c.state})")
    say("")
    say(t.description)
    for comment in t.comments:
        say("")
        say(f"-- {comment.kind} by {comment.author} at {stamp(comment.created_at)}")
        say(comment.body)
    if t.links:
        say("")
        say("Links: " + ", ".join(f"{x.kind} {x.ref}" for x in t.links))


def _act(ticket_id: int, username: str, fn: Callable[[AsyncSession, Actor], Awaitable[object]]) -> None:
    from fictra.support.queries import ticket_detail

    async def run(sessions: async_sessionmaker[AsyncSession]) -> TicketDetail:
        async with sessions.begin() as session:
            await fn(session, await _manager(session, username))
            return await ticket_detail(session, ticket_id=ticket_id, now=SystemClock().now())

    _show(asyncio.run(_with_sessions(run)))


@app.command("list")
def list_cmd(
    state: str = typer.Option("active", "--state", help="active, new, open, pending, solved or closed."),
    limit: int = typer.Option(50, "--limit", min=1, max=500),
    as_json: bool = JSON,
) -> None:
    """Tickets, newest first (default: the active ones)."""
    from fictra.support.queries import list_tickets

    async def run(sessions: async_sessionmaker[AsyncSession]) -> list[TicketSummary]:
        async with sessions() as session:
            return list(await list_tickets(session, now=SystemClock().now(), state=state, limit=limit))

    items = asyncio.run(_with_sessions(run))
    if as_json:
        dump(items)
        return
    table = Table("id", "priority", "state", "title", "requester", "assignee", "over SLA")
    for t in items:
        add_row(
            table, str(t.id), t.priority, t.state, t.title, t.requester_email, t.assignee or "-",
            ", ".join(t.over_sla) or "-",
        )  # fmt: skip
    console.print(table)


@app.command("show")
def show_cmd(ticket_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """One ticket with its replies, notes, links and SLA clocks."""
    from fictra.support.queries import ticket_detail

    async def run(sessions: async_sessionmaker[AsyncSession]) -> TicketDetail:
        async with sessions() as session:
            return await ticket_detail(session, ticket_id=ticket_id, now=SystemClock().now())

    detail = asyncio.run(_with_sessions(run))
    dump(detail) if as_json else _show(detail)


@app.command("reply")
def reply_cmd(ticket_id: int = typer.Argument(...), text: str = typer.Argument(...), user: str = AS) -> None:
    """A public reply, emailed to the requester (through the outbox)."""
    from fictra.support.service import reply

    cfg = config_set().support
    _act(
        ticket_id,
        user,
        lambda s, a: reply(s, ticket_id=ticket_id, body=text, actor=a, config=cfg, clock=SystemClock()),
    )


@app.command("note")
def note_cmd(ticket_id: int = typer.Argument(...), text: str = typer.Argument(...), user: str = AS) -> None:
    """An internal note (never sent to the requester)."""
    from fictra.support.service import add_note

    _act(
        ticket_id,
        user,
        lambda s, a: add_note(s, ticket_id=ticket_id, body=text, actor=a, clock=SystemClock()),
    )


@app.command("assign")
def assign_cmd(
    ticket_id: int = typer.Argument(...),
    assignee: str = typer.Argument(..., help="Who works it ('-' to unassign)."),
    user: str = AS,
) -> None:
    """Assign the ticket."""
    from fictra.support.service import assign

    who = None if assignee == "-" else assignee
    _act(
        ticket_id,
        user,
        lambda s, a: assign(s, ticket_id=ticket_id, assignee=who, actor=a, clock=SystemClock()),
    )


@app.command("state")
def state_cmd(
    ticket_id: int = typer.Argument(...),
    state: str = typer.Argument(..., help="open, pending, solved or closed."),
    note: str | None = typer.Option(None, "--note"),
    user: str = AS,
) -> None:
    """Move the ticket (new -> open -> pending -> solved -> closed); refusals name what is missing."""
    from fictra.support.service import transition

    _act(
        ticket_id,
        user,
        lambda s, a: transition(
            s, ticket_id=ticket_id, to_state=state, actor=a, clock=SystemClock(), note=note
        ),
    )
