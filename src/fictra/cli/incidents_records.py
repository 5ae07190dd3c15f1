"""`fictra incidents task|update|meeting|evidence ...`: corrective-action tasks, stakeholder updates,
emergency meetings and evidence. :mod:`fictra.cli.incidents` adds the two sub-apps and registers
:func:`update_cmd` and :func:`meeting_cmd` as its own commands."""

from __future__ import annotations

import asyncio
from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.cli._common import config_set, settings
from fictra.cli._response import actor, in_transaction, stamp, when
from fictra.cli.incidents_common import AS, clock, incidents_config, run_in_transaction, say
from fictra.incidents import communications, evidence, tasks

task_app = typer.Typer(help="Corrective-action tasks of an incident.", no_args_is_help=True)
evidence_app = typer.Typer(help="Collect, list and verify an incident's evidence.", no_args_is_help=True)


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
            clock=clock(),
        )

    task = run_in_transaction(run)
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
            clock=clock(),
        )

    run_in_transaction(run)
    say(f"Task #{task_id} of incident {incident_id} is done.")


@task_app.command("list")
def task_list_cmd(incident_id: int = typer.Argument(...)) -> None:
    """The incident's corrective-action tasks."""

    async def run(session: AsyncSession) -> Any:
        return await tasks.list_tasks(session, incident_id=incident_id)

    for t in run_in_transaction(run):
        say(f"#{t.id} [{t.status}] {t.title} (owner {t.owner}, due {stamp(t.due_at)})")


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
    cfg = incidents_config()
    extra = {k: v for k, v in {"message": message, "impact": impact, "trading": trading}.items() if v}

    async def run(session: AsyncSession) -> Any:
        return await communications.send_update(
            session,
            incident_id=incident_id,
            groups=group,
            template=template,
            actor=actor(as_user),
            clock=clock(),
            extra=extra,
            config=cfg,
        )

    result = run_in_transaction(run)
    say(f"Sent '{result.subject}' to {len(result.deliveries)} receiver channel(s).")


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
    cfg = incidents_config()
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
            clock=clock(),
            config=cfg,
        )

    meeting = run_in_transaction(run)
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
        pool = RpcPool(network=loaded.network.name, urls=endpoint_urls(loaded), clock=clock())
        try:
            await pool.start()

            async def run(session: AsyncSession) -> Any:
                return await evidence.collect(
                    session,
                    incident_id=incident_id,
                    pool=pool,
                    manifest=manifest,
                    clock=clock(),
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

    for r in run_in_transaction(run):
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

    result = run_in_transaction(run)
    say(f"Evidence #{evidence_id} verifies: sha256 {result['sha256']}")
