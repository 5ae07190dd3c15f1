"""`fictra maintenance ...`: list, show ID, log ID, create, end ID, done ID, cancel ID.

The CLI acts on the database like `fictra changes` (writes as a user of ``fictra users``, ``--as``; the
permission ``maintenance.manage`` comes from their roles; audited under their name). A window's holding,
releases, notices and reminders are done by ``fictra up``'s maintenance job; the CLI only records the
windows. Times are ISO 8601: with an offset they are that instant, without one they are wall time in
``--tz``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.cli._common import config_set, console
from fictra.cli.changes import AS, _actor, _with_sessions
from fictra.cli.incidents_common import JSON, add_row, dump, say
from fictra.clock import SystemClock
from fictra.errors import UsageError

HELP = "Maintenance windows: list, show, log, create (one-off, RRULE, emergency), end, done, cancel."
app = typer.Typer(help=HELP, no_args_is_help=True)


def _when(name: str, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--{name} '{value}' is not an ISO 8601 time (e.g. 2026-03-01T02:00).") from None


def _show(d: dict[str, Any]) -> None:
    w = d["window"]
    dur = f"{w['duration_seconds'] // 60} min" if w["duration_seconds"] else "open until ended"
    say(f"Maintenance window {w['id']} [{w['state']}] {w['kind']}: {w['title']}")
    say(f"  start {w['local_start']} {w['timezone']} ({w['starts_at']}), {dur}, repeats {w['rrule'] or 'no'}")
    say(f"  scope {', '.join(w['matchers'])}; owner {w['owner']}"
        + (f" (change #{w['owner_change_id']})" if w["owner_change_id"] else ""))  # fmt: skip
    say(f"  open now: {'yes' if w['open_now'] else 'no'}; next start {w['next_start'] or '-'}")
    for h in d["holds"]:
        say(f"  alert {h['alert_id']} [{h['severity']}] {h['summary']}: {h['outcome']}")


async def _detail(sessions: async_sessionmaker[AsyncSession], window_id: int) -> dict[str, Any]:
    from fictra.maintenance.queries import get_window

    async with sessions() as session:
        return (await get_window(session, window_id=window_id, now=SystemClock().now())).model_dump(
            mode="json"
        )


@app.command("list")
def list_cmd(
    state: str | None = typer.Option(None, "--state", help="open, scheduled, active, ended or canceled."),
    as_json: bool = JSON,
) -> None:
    """Maintenance windows, newest first."""
    from fictra.maintenance.queries import list_windows

    if state is not None and state not in ("open", "scheduled", "active", "ended", "canceled"):
        raise UsageError(f"--state '{state}' is not one of: open, scheduled, active, ended, canceled.")

    async def run(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            rows = await list_windows(session, now=SystemClock().now(), state=state, limit=500)
        return [r.model_dump(mode="json") for r in rows]

    items = asyncio.run(_with_sessions(run))
    if as_json:
        dump(items)
        return
    table = Table()
    for col in ("#", "state", "kind", "title", "start", "repeats", "scope", "open now"):
        table.add_column(col)
    for w in items:
        add_row(table, str(w["id"]), w["state"], w["kind"], w["title"], f"{w['local_start']} {w['timezone']}",
                w["rrule"] or "-", ", ".join(w["matchers"]), "yes" if w["open_now"] else "no")  # fmt: skip
    console.print(table)


@app.command("show")
def show_cmd(window_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """One window: schedule, scope, owner, the alerts it held and how each ended."""
    d = asyncio.run(_with_sessions(lambda sessions: _detail(sessions, window_id)))
    if as_json:
        dump(d)
        return
    _show(d)


@app.command("log")
def log_cmd(window_id: int = typer.Argument(...)) -> None:
    """The "Maintenance Logs" document of the window (Markdown)."""
    from fictra.maintenance.log import render_markdown

    async def run(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions() as session:
            return await render_markdown(session, window_id=window_id, now=SystemClock().now())

    typer.echo(asyncio.run(_with_sessions(run)))


@app.command("create")
def create_cmd(
    as_user: str = AS,
    title: str = typer.Option(..., "--title"),
    scope: list[str] = typer.Option(..., "--scope", help='A label matcher, e.g. contract="PaymentToken".'),
    owner: str = typer.Option(..., "--owner", help="Told of overruns and forgotten windows."),
    start: str | None = typer.Option(None, "--start", help="ISO time (wall time in --tz without an offset)."),
    end: str | None = typer.Option(None, "--end"),
    duration: int | None = typer.Option(None, "--duration", min=1, help="Minutes (instead of --end)."),
    tz: str = typer.Option("UTC", "--tz", help="IANA zone of the wall time and the RRULE."),
    rrule: str | None = typer.Option(None, "--rrule", help="e.g. FREQ=WEEKLY;BYDAY=SU"),
    emergency: bool = typer.Option(False, "--emergency", help="Starts now, open until ended."),
    step: list[str] = typer.Option([], "--step", help="A planned step (repeat)."),
    change: int | None = typer.Option(None, "--change", help="The change request that owns the window."),
    description: str = typer.Option("", "--description"),
) -> None:
    """Create a window: one-off (--start, --end/--duration), recurring (--rrule in --tz) or --emergency."""
    from fictra.maintenance.service import create_window

    starts_at, ends_at = _when("start", start), _when("end", end)

    async def run(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
        async with sessions.begin() as session:
            actor = await _actor(session, as_user, "maintenance.manage")
            view = await create_window(
                session, title=title, matchers=scope, owner=owner, actor=actor, clock=SystemClock(),
                config=config_set().maintenance, starts_at=starts_at, ends_at=ends_at,
                duration=None if duration is None else timedelta(minutes=duration), timezone=tz, rrule=rrule,
                emergency=emergency, description=description, steps=step, owner_change_id=change,
            )  # fmt: skip
        return await _detail(sessions, view.id)

    _show(asyncio.run(_with_sessions(run)))


def _act(window_id: int, as_user: str, what: str, text: str) -> None:
    from fictra.maintenance.service import cancel_window, end_window, mark_done

    async def run(sessions: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
        clock = SystemClock()
        async with sessions.begin() as session:
            actor = await _actor(session, as_user, "maintenance.manage")
            if what == "end":
                await end_window(session, window_id=window_id, actor=actor, clock=clock, note=text)
            elif what == "done":
                await mark_done(session, window_id=window_id, actor=actor, clock=clock, note=text)
            else:
                await cancel_window(session, window_id=window_id, actor=actor, clock=clock, reason=text)
        return await _detail(sessions, window_id)

    _show(asyncio.run(_with_sessions(run)))


@app.command("end")
def end_cmd(
    window_id: int = typer.Argument(...), as_user: str = AS, note: str = typer.Option("", "--note")
) -> None:
    """Close the window now (the held alerts are released or dropped by the next maintenance run)."""
    _act(window_id, as_user, "end", note)


@app.command("done")
def done_cmd(
    window_id: int = typer.Argument(...), as_user: str = AS, note: str = typer.Option("", "--note")
) -> None:
    """The current occurrence's work is done (no overrun reminder for it)."""
    _act(window_id, as_user, "done", note)


@app.command("cancel")
def cancel_cmd(
    window_id: int = typer.Argument(...), as_user: str = AS, reason: str = typer.Option(..., "--reason")
) -> None:
    """Cancel the window."""
    _act(window_id, as_user, "cancel", reason)
