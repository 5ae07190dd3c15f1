"""`fictra incidents ...`: list, show, declare, classify, advance, output, role, note, task, update, meeting,
evidence, report, close.

Each change is audited under ``cli:<OS user>`` (or ``--as USER``), exactly like the same change from the
console or the API; refusals (a missing output, an unknown user) print one line and exit 2.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.cli._common import config_set, console, settings
from fictra.cli._response import actor, add_row, in_transaction, say, stamp, when
from fictra.clock import SystemClock
from fictra.errors import UsageError
from fictra.incidents import communications, evidence, report, service, tasks
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.schemas import IncidentView
from fictra.incidents.timeline import timeline

app = typer.Typer(
    help="Declare and run incidents: phases, outputs, roles, tasks, updates, report.", no_args_is_help=True
)
task_app = typer.Typer(help="Corrective-action tasks of an incident.", no_args_is_help=True)
evidence_app = typer.Typer(help="Collect, list and verify an incident's evidence.", no_args_is_help=True)
app.add_typer(task_app, name="task")
app.add_typer(evidence_app, name="evidence")

AS = typer.Option(None, "--as", help="Record the change under this name (default: cli:<OS user>).")
JSON = typer.Option(False, "--json", help="Print JSON instead of a table.")


def _config() -> IncidentsConfig:
    return config_set().incidents


def _clock() -> SystemClock:
    return SystemClock()


def _run(fn: Any) -> Any:
    return asyncio.run(in_transaction(fn))


def _dump(value: Any) -> None:
    from fictra.audit.canonical import jsonable

    typer.echo(json.dumps(jsonable(value), indent=2, sort_keys=True))


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
        return await service.list_incidents(session, status=status, severity=severity, limit=limit)

    rows = _run(run)
    if as_json:
        _dump([r.model_dump() for r in rows])
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
        return await service.get_incident(session, incident_id), await timeline(session, incident_id)

    view, items = _run(run)
    if as_json:
        _dump({**view.model_dump(), "timeline": items})
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
    cfg = _config()

    async def run(session: AsyncSession) -> IncidentView:
        return await service.declare(
            session,
            title=title,
            severity=severity.upper(),
            category=category,
            actor=actor(as_user),
            clock=_clock(),
            alert_ids=alert,
            summary=summary,
            config=cfg,
        )

    view = _run(run)
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
            clock=_clock(),
            note=note,
        )

    view = _run(run)
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
    cfg = _config()

    async def run(session: AsyncSession) -> IncidentView:
        return await service.reclassify(
            session,
            incident_id=incident_id,
            actor=actor(as_user),
            clock=_clock(),
            severity=severity.upper() if severity else None,
            category=category,
            reason=reason,
            config=cfg,
        )

    view = _run(run)
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
        return await service.record_output(
            session,
            incident_id=incident_id,
            key=key,
            text=text,
            actor=actor(as_user),
            clock=_clock(),
            not_required=not_required,
        )

    view = _run(run)
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
        return await service.assign_role(
            session,
            incident_id=incident_id,
            role=role,
            username=user,
            actor=actor(as_user),
            clock=_clock(),
            remove=remove,
        )

    _run(run)
    say(f"{user} {'removed as' if remove else 'is'} {role} on incident {incident_id}.")


@app.command("note")
def note_cmd(
    incident_id: int = typer.Argument(...), text: str = typer.Argument(...), as_user: str | None = AS
) -> None:
    """Add a note to the incident's timeline."""

    async def run(session: AsyncSession) -> IncidentView:
        return await service.add_note(
            session, incident_id=incident_id, text=text, actor=actor(as_user), clock=_clock()
        )

    _run(run)
    say(f"Note added to incident {incident_id}.")


@task_app.command("add")
def task_add_cmd(
    incident_id: int = typer.Argument(...),
    title: str = typer.Option(..., "--title"),
    owner: str = typer.Option(..., "--owner"),
    due: str = typer.Option(..., "--due", help="ISO time with zone, or a duration from now (7d)."),
    as_user: str | None = AS,
) -> None:
    """Add a corrective-action task."""
    due_at = when(due, "--due")

    async def run(session: AsyncSession) -> Any:
        return await tasks.add_task(
            session,
            incident_id=incident_id,
            title=title,
            owner=owner,
            due_at=due_at,
            actor=actor(as_user),
            clock=_clock(),
        )

    task = _run(run)
    say(f"Task #{task.id} added to incident {incident_id} (owner {task.owner}, due {stamp(task.due_at)}).")


@task_app.command("done")
def task_done_cmd(
    incident_id: int = typer.Argument(...), task_id: int = typer.Argument(...), as_user: str | None = AS
) -> None:
    """Mark a task done."""

    async def run(session: AsyncSession) -> Any:
        return await tasks.update_task(
            session,
            incident_id=incident_id,
            task_id=task_id,
            status="done",
            actor=actor(as_user),
            clock=_clock(),
        )

    _run(run)
    say(f"Task #{task_id} of incident {incident_id} is done.")


@task_app.command("list")
def task_list_cmd(incident_id: int = typer.Argument(...)) -> None:
    """The incident's corrective-action tasks."""

    async def run(session: AsyncSession) -> Any:
        return await tasks.list_tasks(session, incident_id=incident_id)

    for t in _run(run):
        say(f"#{t.id} [{t.status}] {t.title} (owner {t.owner}, due {stamp(t.due_at)})")


@app.command("update")
def update_cmd(
    incident_id: int = typer.Argument(...),
    template: str = typer.Option("status", "--template", help="initial, status, resolution or market"),
    group: list[str] = typer.Option(..., "--group", help="Stakeholder group (repeatable)."),
    message: str | None = typer.Option(None, "--message"),
    impact: str | None = typer.Option(None, "--impact"),
    trading: str | None = typer.Option(None, "--trading"),
    as_user: str | None = AS,
) -> None:
    """Send a templated status update to stakeholder groups (through the notification outbox)."""
    cfg = _config()
    extra = {k: v for k, v in {"message": message, "impact": impact, "trading": trading}.items() if v}

    async def run(session: AsyncSession) -> Any:
        return await communications.send_update(
            session,
            incident_id=incident_id,
            groups=group,
            template=template,
            actor=actor(as_user),
            clock=_clock(),
            extra=extra,
            config=cfg,
        )

    result = _run(run)
    say(f"Sent '{result.subject}' to {len(result.deliveries)} receiver channel(s).")


@app.command("meeting")
def meeting_cmd(
    incident_id: int = typer.Argument(...),
    at: str = typer.Option(..., "--at", help="ISO time with zone, or a duration from now (15m)."),
    bridge: str = typer.Option(..., "--bridge", help="Meeting URL and/or dial-in."),
    attendee: list[str] = typer.Option(
        ..., "--attendee", help="A person of oncall.yaml or a group (repeatable)."
    ),
    agenda: str | None = typer.Option(None, "--agenda"),
    as_user: str | None = AS,
) -> None:
    """Schedule an emergency meeting; each attendee is notified."""
    cfg = _config()
    starts = when(at, "--at")

    async def run(session: AsyncSession) -> Any:
        return await communications.schedule_meeting(
            session,
            incident_id=incident_id,
            starts_at=starts,
            bridge=bridge,
            attendees=attendee,
            agenda=agenda,
            actor=actor(as_user),
            clock=_clock(),
            config=cfg,
        )

    meeting = _run(run)
    say(
        f"Meeting #{meeting.id} at {stamp(meeting.starts_at)} on {meeting.bridge}; "
        f"notified {', '.join(meeting.attendees)}."
    )


@evidence_app.command("collect")
def evidence_collect_cmd(incident_id: int = typer.Argument(...), as_user: str | None = AS) -> None:
    """Collect evidence now from the configured network (blocks, transactions, contract state)."""
    from fictra.chain.manifest import Manifest
    from fictra.chain.pool import RpcPool
    from fictra.platform.assemble import endpoint_urls, manifest_path

    s = settings()
    loaded = config_set()
    manifest = Manifest.load(manifest_path(s, loaded, devnet=not loaded.network.manifest))

    async def main() -> Any:
        pool = RpcPool(network=loaded.network.name, urls=endpoint_urls(loaded), clock=_clock())
        try:
            await pool.start()

            async def run(session: AsyncSession) -> Any:
                return await evidence.collect(
                    session,
                    incident_id=incident_id,
                    pool=pool,
                    manifest=manifest,
                    clock=_clock(),
                    actor=actor(as_user),
                )

            return await in_transaction(run)
        finally:
            await pool.aclose()

    record = asyncio.run(main())
    say(
        f"Evidence #{record['id']} of incident {incident_id} at block {record['summary']['block']}: "
        f"sha256 {record['sha256']}"
    )


@evidence_app.command("list")
def evidence_list_cmd(incident_id: int = typer.Argument(...)) -> None:
    """Evidence records with their hashes."""

    async def run(session: AsyncSession) -> Any:
        return await evidence.list_evidence(session, incident_id=incident_id)

    for r in _run(run):
        say(
            f"#{r['id']} {stamp(r['collected_at'])} {r['trigger']} block {r['summary'].get('block')} "
            f"sha256 {r['sha256']}"
        )


@evidence_app.command("verify")
def evidence_verify_cmd(
    incident_id: int = typer.Argument(...), evidence_id: int = typer.Argument(...)
) -> None:
    """Recompute an evidence document's SHA-256 and compare it with the stored and audited hashes."""

    async def run(session: AsyncSession) -> Any:
        return await evidence.verify(session, incident_id=incident_id, evidence_id=evidence_id)

    result = _run(run)
    say(f"Evidence #{evidence_id} verifies: sha256 {result['sha256']}")


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
            session, incident_id=incident_id, fmt=fmt, actor=actor(as_user), clock=_clock()
        )

    data = _run(run)
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
            session, incident_id=incident_id, actor=actor(as_user), clock=_clock(), note=note
        )

    _run(run)
    say(f"Incident {incident_id} closed.")
