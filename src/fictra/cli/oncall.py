"""`fictra oncall`: who is on call now and next, overrides, iCalendar import."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.cli._common import console
from fictra.cli._response import actor, add_row, in_transaction, response_context, say, stamp, when
from fictra.errors import UsageError
from fictra.response.overrides import OverrideView, create_override, import_ical, list_overrides
from fictra.response.queries import OncallView, oncall_now

app = typer.Typer(help="On-call schedules: who is on call now and next, overrides, iCalendar import.")

AS = typer.Option(
    None,
    "--as",
    help="Record the change under this name (default: $FICTRA_OPERATOR; one of them is required).",
)


@app.command("now")
def now_cmd(
    schedule: str | None = typer.Option(None, "--schedule", help="Only this schedule."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of a table."),
) -> None:
    """Who is on call now, and who takes over next (and when)."""
    ctx = response_context()
    views: list[OncallView] = asyncio.run(in_transaction(lambda s: oncall_now(s, ctx, schedule=schedule)))
    if as_json:
        typer.echo(json.dumps([v.model_dump(mode="json") for v in views], indent=2))
        return
    if not views:
        say("No on-call schedules (add them to oncall.yaml).")
        return
    table = Table("schedule", "on call now", "until", "next", "from")
    for v in views:
        add_row(
            table,
            v.schedule,
            ", ".join(s.person for s in v.now) or "(nobody)",
            stamp(min((s.end for s in v.now), default=None)),
            ", ".join(s.person for s in v.next) or "-",
            stamp(v.next_at),
        )
    console.print(table)


@app.command("override")
def override_cmd(
    schedule: str = typer.Argument(..., help="Schedule name (oncall.yaml)."),
    person: str = typer.Argument(..., help="Person (oncall.yaml people)."),
    start: str = typer.Option("0s", "--start", help="ISO time or a delay from now (default: now)."),
    end: str = typer.Option(..., "--end", help="ISO time or a duration from now (8h)."),
    as_user: str | None = AS,
) -> None:
    """Put someone on call for a while (wins over the rotation)."""
    ctx = response_context()
    starts, ends = when(start, "--start"), when(end, "--end")

    async def run(session: AsyncSession) -> OverrideView:
        return await create_override(
            session,
            config=ctx.config,
            schedule=schedule,
            person=person,
            starts_at=starts,
            ends_at=ends,
            actor=actor(as_user),
            clock=ctx.clock,
        )

    view = asyncio.run(in_transaction(run))
    say(
        f"Override {view.id}: {view.person} on call for {view.schedule} "
        f"{stamp(view.starts_at)} - {stamp(view.ends_at)}"
    )


@app.command("import")
def import_cmd(
    schedule: str = typer.Argument(..., help="Schedule name (oncall.yaml)."),
    path: Path = typer.Argument(..., help="iCalendar file (.ics): each event a shift, SUMMARY the person."),
    as_user: str | None = AS,
) -> None:
    """Replace the schedule's future imported shifts with those of an iCalendar file (next 90 days)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"Cannot read iCalendar file '{path}': {exc.strerror}.") from None
    ctx = response_context()

    async def run(session: AsyncSession) -> list[OverrideView]:
        return await import_ical(
            session,
            config=ctx.config,
            schedule=schedule,
            data=data,
            actor=actor(as_user),
            clock=ctx.clock,
        )

    views = asyncio.run(in_transaction(run))
    people = sorted({v.person for v in views})
    say(f"Imported {len(views)} shift(s) into {schedule}: {', '.join(people) or 'none'}")


@app.command("overrides")
def overrides_cmd(
    schedule: str | None = typer.Option(None, "--schedule", help="Only this schedule."),
) -> None:
    """Current and future overrides (manual and imported)."""
    ctx = response_context()
    views = asyncio.run(in_transaction(lambda s: list_overrides(s, schedule=schedule, now=ctx.clock.now())))
    table = Table("id", "schedule", "person", "from", "until", "source")
    for v in views:
        add_row(table, str(v.id), v.schedule, v.person, stamp(v.starts_at), stamp(v.ends_at), v.source)
    console.print(table)
