"""`fictra incidents ...`: list, show, declare, classify, advance, output, role, note, task, update, meeting,
evidence, report, close (task, update, meeting and evidence: :mod:`fictra.cli.incidents_records`).

Each change is audited under ``--as USER`` (or ``$FICTRA_OPERATOR``; refused without either), exactly
like the same change from the console or the API; refusals (a missing output, an unknown user) print one
line and exit 2. User data is printed without terminal control or bidi characters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.cli._common import console
from fictra.cli._response import actor, stamp
from fictra.cli.incidents_common import (
    AS,
    JSON,
    action_ledger,
    add_row,
    clock,
    dump,
    incidents_config,
    run_in_transaction,
    say,
)
from fictra.cli.incidents_records import evidence_app, meeting_cmd, task_app, update_cmd
from fictra.errors import UsageError
from fictra.incidents import report, service
from fictra.incidents.outputs import record_output
from fictra.incidents.queries import get_incident, list_incidents
from fictra.incidents.roles import assign_role
from fictra.incidents.schemas import IncidentView
from fictra.incidents.timeline import timeline

app = typer.Typer(
    help="Declare and run incidents: phases, outputs, roles, tasks, updates, report.", no_args_is_help=True
)
app.add_typer(task_app, name="task")
app.add_typer(evidence_app, name="evidence")
app.command("update")(update_cmd)
app.command("meeting")(meeting_cmd)


def _show(view: IncidentView) -> None:
    say(f"Incident {view.id} [{view.severity} {view.category}] {view.title}")
    say(
        f"  {view.status}, phase {view.phase}; declared {stamp(view.declared_at)} by {view.declared_by} "
        f"({view.source}); next update due {stamp(view.next_update_due)}"
    )
    say(
        f"  commander {view.commander or '-'}, scribe {view.scribe or '-'}, liaison {view.liaison or '-'}, "
        f"responders {', '.join(view.responders) or '-'}; alerts {', '.join(map(str, view.alert_ids)) or '-'}"
    )
    if view.summary:
        say(f"  {view.summary}")
    table = Table(title="Outputs")
    for col in ("phase", "output", "status", "text / how"):
        table.add_column(col)
    for o in view.outputs:
        add_row(table, o.phase, o.key, o.status, (o.text or "") if o.status != "missing" else f"-> {o.how}")
    console.print(table)
    for t in view.tasks:
        say(f"  task #{t.id} [{t.status}] {t.title} (owner {t.owner}, due {stamp(t.due_at)})")


@app.command("list")
def list_cmd(
    status: str | None = typer.Option(None, "--status", help="open or closed"),
    severity: str | None = typer.Option(None, "--severity"),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    as_json: bool = JSON,
) -> None:
    """Incidents, newest first."""

    async def run(session: AsyncSession) -> Any:
        return await list_incidents(session, status=status, severity=severity, limit=limit)

    rows = run_in_transaction(run)
    if as_json:
        dump([r.model_dump() for r in rows])
        return
    table = Table()
    for col in ("id", "sev", "category", "phase", "status", "declared", "commander", "title"):
        table.add_column(col)
    for r in rows:
        add_row(
            table,
            str(r.id),
            r.severity,
            r.category,
            r.phase,
            r.status,
            stamp(r.declared_at),
            r.commander or "-",
            r.title,
        )
    console.print(table)


@app.command("show")
def show_cmd(incident_id: int = typer.Argument(...), as_json: bool = JSON) -> None:
    """One incident: outputs (and how to provide the missing ones), roles, tasks and its timeline."""

    async def run(session: AsyncSession) -> Any:
        return await get_incident(session, incident_id), await timeline(
            session, incident_id, actions=action_ledger()
        )

    view, items = run_in_transaction(run)
    if as_json:
        dump({**view.model_dump(), "timeline": items})
        return
    _show(view)
    say("Timeline:")
    for item in items:
        say(f"  {stamp(item.at)}  {item.kind:<24} {item.actor:<20} {item.text}")


@app.command("declare")
def declare_cmd(
    title: str = typer.Option(..., "--title"),
    severity: str = typer.Option(..., "--severity", help="P0, P1, P2 or P3"),
    category: str = typer.Option(
        ..., "--category", help="smart_contract, security, market, infrastructure, oracle or compliance"
    ),
    alert: list[int] = typer.Option([], "--alert", help="A triggering alert id (repeatable)."),
    summary: str | None = typer.Option(None, "--summary"),
    as_user: str | None = AS,
) -> None:
    """Declare an incident from alerts, or from scratch."""
    cfg = incidents_config()

    async def run(session: AsyncSession) -> IncidentView:
        return await service.declare(
            session,
            title=title,
            severity=severity.upper(),
            category=category,
            actor=actor(as_user),
            clock=clock(),
            alert_ids=alert,
            summary=summary,
            config=cfg,
        )

    view = run_in_transaction(run)
    say(
        f"Incident {view.id} declared ({view.severity} {view.category}); "
        f"still needed: {', '.join(view.missing)}."
    )


@app.command("advance")
def advance_cmd(
    incident_id: int = typer.Argument(...),
    to_phase: str = typer.Argument(..., help="response, recovery, post_incident or closed"),
    note: str | None = typer.Option(None, "--note"),
    as_user: str | None = AS,
) -> None:
    """Move to the next phase (refused, naming each missing output, while outputs are missing)."""

    async def run(session: AsyncSession) -> IncidentView:
        return await service.advance(
            session,
            incident_id=incident_id,
            to_phase=to_phase,
            actor=actor(as_user),
            clock=clock(),
            note=note,
        )

    view = run_in_transaction(run)
    say(f"Incident {incident_id} is in phase {view.phase}.")


@app.command("classify")
def classify_cmd(
    incident_id: int = typer.Argument(...),
    severity: str | None = typer.Option(None, "--severity", help="P0, P1, P2 or P3"),
    category: str | None = typer.Option(None, "--category"),
    reason: str | None = typer.Option(None, "--reason"),
    as_user: str | None = AS,
) -> None:
    """Change an open incident's severity and/or category."""
    cfg = incidents_config()

    async def run(session: AsyncSession) -> IncidentView:
        return await service.reclassify(
            session,
            incident_id=incident_id,
            actor=actor(as_user),
            clock=clock(),
            severity=severity.upper() if severity else None,
            category=category,
            reason=reason,
            config=cfg,
        )

    view = run_in_transaction(run)
    say(f"Incident {incident_id} is now {view.severity} / {view.category}.")


@app.command("output")
def output_cmd(
    incident_id: int = typer.Argument(...),
    key: str = typer.Argument(..., help="e.g. triage, containment, root_cause"),
    text: str = typer.Option(..., "--text", help="What was done (or, with --not-required, why not)."),
    not_required: bool = typer.Option(
        False, "--not-required", help="Only for outputs the runbook makes optional."
    ),
    as_user: str | None = AS,
) -> None:
    """Record a phase output."""

    async def run(session: AsyncSession) -> IncidentView:
        return await record_output(
            session,
            incident_id=incident_id,
            key=key,
            text=text,
            actor=actor(as_user),
            clock=clock(),
            not_required=not_required,
        )

    view = run_in_transaction(run)
    left = f"; phase {view.phase} still needs: {', '.join(view.missing)}" if view.missing else ""
    say(f"Output {key} recorded on incident {incident_id}{left}.")


@app.command("role")
def role_cmd(
    incident_id: int = typer.Argument(...),
    role: str = typer.Argument(..., help="commander, scribe, liaison or responder"),
    user: str = typer.Argument(...),
    remove: bool = typer.Option(False, "--remove"),
    as_user: str | None = AS,
) -> None:
    """Assign (or --remove) an incident role."""

    async def run(session: AsyncSession) -> IncidentView:
        return await assign_role(
            session,
            incident_id=incident_id,
            role=role,
            username=user,
            actor=actor(as_user),
            clock=clock(),
            remove=remove,
        )

    run_in_transaction(run)
    say(f"{user} {'removed as' if remove else 'is'} {role} on incident {incident_id}.")


@app.command("note")
def note_cmd(
    incident_id: int = typer.Argument(...), text: str = typer.Argument(...), as_user: str | None = AS
) -> None:
    """Add a note to the incident's timeline."""

    async def run(session: AsyncSession) -> IncidentView:
        return await service.add_note(
            session, incident_id=incident_id, text=text, actor=actor(as_user), clock=clock()
        )

    run_in_transaction(run)
    say(f"Note added to incident {incident_id}.")


@app.command("report")
def report_cmd(
    incident_id: int = typer.Argument(...),
    fmt: str = typer.Option("md", "--format", help="md, html or pdf"),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Write to this file (default: stdout for md/html)."
    ),
    as_user: str | None = AS,
) -> None:
    """Generate the incident report (records the report output in the post-incident phase)."""
    if fmt == "pdf" and output is None:
        raise UsageError("A PDF report needs --output FILE.")

    async def run(session: AsyncSession) -> bytes:
        return await report.generate(
            session,
            incident_id=incident_id,
            fmt=fmt,
            actor=actor(as_user),
            clock=clock(),
            actions=action_ledger(),
        )

    data = run_in_transaction(run)
    if output is None:
        typer.echo(data.decode("utf-8"), nl=False)
        return
    output.write_bytes(data)
    say(f"Report of incident {incident_id} written to {output} ({len(data)} bytes).")


@app.command("close")
def close_cmd(
    incident_id: int = typer.Argument(...),
    note: str | None = typer.Option(None, "--note"),
    as_user: str | None = AS,
) -> None:
    """Close the incident (refused, naming each, while a required output is missing)."""

    async def run(session: AsyncSession) -> IncidentView:
        return await service.close(
            session, incident_id=incident_id, actor=actor(as_user), clock=clock(), note=note
        )

    run_in_transaction(run)
    say(f"Incident {incident_id} closed.")
