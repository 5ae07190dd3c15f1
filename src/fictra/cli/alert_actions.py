"""`fictra alerts ack|resolve|escalate|snooze|assign|note|clocks|breaches`: act on alerts from the terminal.

Registered on :data:`fictra.cli.alerts.app`. Each action is audited under ``--as NAME`` (or
``$FICTRA_OPERATOR``; without either it is refused), like the same action from the console or the API.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import typer

from fictra.cli import lazy_import
from fictra.cli._response import (
    actor,
    countdown,
    duration,
    in_transaction,
    response_context,
    say,
    stamp,
    when,
)
from fictra.cli.alerts import app

if TYPE_CHECKING:  # imported when a command runs (fast `fictra alerts list`)
    from sqlalchemy.ext.asyncio import AsyncSession

    from fictra.alerting import actions as base
    from fictra.response import actions, queries, sla
    from fictra.response.queries import ResponseView
    from fictra.response.sla import BreachCount
else:
    base = lazy_import("fictra.alerting.actions")
    actions = lazy_import("fictra.response.actions")
    queries = lazy_import("fictra.response.queries")
    sla = lazy_import("fictra.response.sla")

AS = typer.Option(
    None,
    "--as",
    help="Record the action under this name (default: $FICTRA_OPERATOR; one of them is required).",
)
NOTE = typer.Option(None, "--note", help="A note for the alert's timeline.")


def _show(view: ResponseView) -> None:
    ack, res = view.clocks.acknowledge, view.clocks.resolve
    say(
        f"Alert {view.alert_id} [{view.severity}] policy {view.policy or '-'}, "
        f"level {view.level_name or '-'}, next escalation {stamp(view.next_escalation_at)}"
    )
    say(f"  acknowledge by {stamp(ack.deadline)}: {ack.state} ({countdown(ack.remaining_seconds)})")
    say(f"  resolve by     {stamp(res.deadline)}: {res.state} ({countdown(res.remaining_seconds)})")
    if view.assignee or view.snoozed_until or view.muted_by:
        say(
            f"  assignee {view.assignee or '-'}, snoozed until {stamp(view.snoozed_until)}, "
            f"muted by {view.muted_by or '-'}"
        )
    for step in view.steps:
        who = ", ".join(step.people) or "nobody"
        skipped = f" (skipped {', '.join(step.skipped)})" if step.skipped else ""
        say(f"  {stamp(step.at)}  {step.level_name}: {who} [{step.reason}]{skipped}")


@app.command("ack")
def ack_cmd(alert_id: int = typer.Argument(...), note: str | None = NOTE, as_user: str | None = AS) -> None:
    """Acknowledge a firing alert (stops its escalation)."""
    ctx = response_context()

    async def run(session: AsyncSession) -> None:
        await actions.acknowledge(session, alert_id=alert_id, actor=actor(as_user), ctx=ctx, note=note)

    asyncio.run(in_transaction(run))
    say(f"Alert {alert_id} acknowledged.")


@app.command("resolve")
def resolve_cmd(
    alert_id: int = typer.Argument(...), note: str | None = NOTE, as_user: str | None = AS
) -> None:
    """Resolve a firing alert by hand (stops its escalation)."""
    ctx = response_context()

    async def run(session: AsyncSession) -> None:
        await actions.resolve(session, alert_id=alert_id, actor=actor(as_user), ctx=ctx, note=note)

    asyncio.run(in_transaction(run))
    say(f"Alert {alert_id} resolved.")


@app.command("escalate")
def escalate_cmd(
    alert_id: int = typer.Argument(...), note: str | None = NOTE, as_user: str | None = AS
) -> None:
    """Escalate now: notify the next level up."""
    ctx = response_context()

    async def run(session: AsyncSession) -> ResponseView:
        await actions.escalate_now(session, alert_id=alert_id, actor=actor(as_user), ctx=ctx, note=note)
        return await queries.response_of(session, ctx, alert_id=alert_id)

    _show(asyncio.run(in_transaction(run)))


@app.command("snooze")
def snooze_cmd(
    alert_id: int = typer.Argument(...),
    for_: str = typer.Option(..., "--for", help="How long to hold escalation (30m, 2h; at most 7d)."),
    note: str | None = NOTE,
    as_user: str | None = AS,
) -> None:
    """Hold an alert's escalation for a while (its SLA clocks keep running)."""
    ctx = response_context()
    length = duration(for_, "--for")

    async def run(session: AsyncSession) -> ResponseView:
        await actions.snooze(
            session, alert_id=alert_id, actor=actor(as_user), ctx=ctx, duration=length, note=note
        )
        return await queries.response_of(session, ctx, alert_id=alert_id)

    _show(asyncio.run(in_transaction(run)))


@app.command("assign")
def assign_cmd(
    alert_id: int = typer.Argument(...),
    assignee: str = typer.Argument(..., help="A person of oncall.yaml or a user."),
    note: str | None = NOTE,
    as_user: str | None = AS,
) -> None:
    """Assign an alert to someone (they are notified)."""
    ctx = response_context()

    async def run(session: AsyncSession) -> None:
        await actions.assign(
            session, alert_id=alert_id, actor=actor(as_user), ctx=ctx, assignee=assignee, note=note
        )

    asyncio.run(in_transaction(run))
    say(f"Alert {alert_id} assigned to {assignee}.")


@app.command("note")
def note_cmd(
    alert_id: int = typer.Argument(...),
    text: str = typer.Argument(..., help="The note."),
    as_user: str | None = AS,
) -> None:
    """Add a note to an alert's timeline."""
    ctx = response_context()

    async def run(session: AsyncSession) -> None:
        await base.add_note(session, alert_id=alert_id, actor=actor(as_user), clock=ctx.clock, text=text)

    asyncio.run(in_transaction(run))
    say(f"Note added to alert {alert_id}.")


@app.command("clocks")
def clocks_cmd(
    alert_id: int = typer.Argument(...),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of text."),
) -> None:
    """SLA clocks (acknowledge/resolve deadlines) and the escalation timeline of an alert."""
    ctx = response_context()
    view = asyncio.run(in_transaction(lambda s: queries.response_of(s, ctx, alert_id=alert_id)))
    if as_json:
        typer.echo(view.model_dump_json(indent=2))
        return
    _show(view)


@app.command("breaches")
def breaches_cmd(
    since: str | None = typer.Option(None, "--since", help="Breaches at or after this ISO time."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of text."),
) -> None:
    """SLA breaches counted per severity, team and kind."""
    start = when(since, "--since") if since else None
    rows: list[BreachCount] = asyncio.run(in_transaction(lambda s: sla.breach_report(s, since=start)))
    if as_json:
        typer.echo(json.dumps([r.model_dump() for r in rows]))
        return
    if not rows:
        say("No SLA breaches.")
    for r in rows:
        say(f"{r.severity}  {r.team:<20} {r.kind:<12} {r.count}")
