"""`fictra silences`: list, add and expire silences (matchers with a start and an end)."""

from __future__ import annotations

import asyncio

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.cli._common import console
from fictra.cli._response import actor, add_row, in_transaction, say, stamp, when
from fictra.clock import SystemClock
from fictra.response.silences import SilenceView, create_silence, expire_silence, list_silences

app = typer.Typer(help="Silences: mute alerts matching label matchers for a while (still recorded).")


@app.command("list")
def list_cmd(
    expired: bool = typer.Option(False, "--expired", help="Include expired silences."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
) -> None:
    """Active and pending silences (and expired ones with --expired)."""
    now = SystemClock().now()
    views = asyncio.run(in_transaction(lambda s: list_silences(s, now=now, include_expired=expired)))
    if as_json:
        for v in views:
            typer.echo(v.model_dump_json())
        return
    table = Table("id", "state", "matchers", "from", "until", "by", "comment")
    for v in views:
        add_row(
            table,
            str(v.id),
            v.state,
            " ".join(v.matchers),
            stamp(v.starts_at),
            stamp(v.ends_at),
            v.created_by,
            v.comment,
        )
    console.print(table)


@app.command("add")
def add_cmd(
    matchers: list[str] = typer.Argument(..., help='Matchers: monitor="rpc-health" endpoint=~"backup.*"'),
    end: str = typer.Option(..., "--end", help="ISO time or a duration from now (2h)."),
    comment: str = typer.Option(..., "--comment", help="Why."),
    start: str | None = typer.Option(None, "--start", help="ISO time or a delay from now (default: now)."),
    as_user: str | None = typer.Option(
        None, "--as", help="Record under this name (default: $FICTRA_OPERATOR; one of them is required)."
    ),
) -> None:
    """Create a silence."""
    clock = SystemClock()
    starts = when(start, "--start") if start else None
    ends = when(end, "--end")

    async def run(session: AsyncSession) -> SilenceView:
        return await create_silence(
            session,
            matchers=matchers,
            starts_at=starts,
            ends_at=ends,
            comment=comment,
            actor=actor(as_user),
            clock=clock,
        )

    view = asyncio.run(in_transaction(run))
    say(f"Silence {view.id} ({view.state}) until {stamp(view.ends_at)}: {' '.join(view.matchers)}")


@app.command("expire")
def expire_cmd(
    silence_id: int = typer.Argument(..., help="Silence id."),
    as_user: str | None = typer.Option(
        None, "--as", help="Record under this name (default: $FICTRA_OPERATOR; one of them is required)."
    ),
) -> None:
    """End a silence now."""
    clock = SystemClock()
    view = asyncio.run(
        in_transaction(lambda s: expire_silence(s, silence_id=silence_id, actor=actor(as_user), clock=clock))
    )
    say(f"Silence {view.id} expired at {stamp(view.ends_at)}")
