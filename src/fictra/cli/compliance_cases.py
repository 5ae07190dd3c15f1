"""`fictra compliance cases|sars|filings|feeds ...` (registered by :mod:`fictra.cli.compliance`): cases (open,
list, show, state), suspicious activity reports (draft, approve, file, export as PDF or JSON), the filings
calendar (list, file) and the regulators' feed items (read, triage). Writes act ``--as`` a user holding the
permission and are audited under that name."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.cli._common import config_set, settings
from fictra.cli.incidents_common import say
from fictra.clock import SystemClock

cases_app = typer.Typer(help="Cases: open for a subject, list, show, move.", no_args_is_help=True)
sars_app = typer.Typer(
    help="Suspicious activity reports: draft, approve, file, export.", no_args_is_help=True
)
filings_app = typer.Typer(help="The regulatory filings calendar: list, mark filed.", no_args_is_help=True)
feeds_app = typer.Typer(help="Regulators' feeds: read now, list, triage an item.", no_args_is_help=True)
AS = typer.Option(..., "--as", help="The user (fictra users) acting; needs the compliance permission.")


def _run(permission: str, user: str | None, fn):  # type: ignore[no-untyped-def]
    from fictra.cli.compliance import _actor, _with_sessions

    async def run(sessions: async_sessionmaker[AsyncSession]) -> object:
        async with sessions.begin() as session:
            actor = await _actor(session, user, permission) if user is not None else None
            return await fn(session, actor)

    return asyncio.run(_with_sessions(run))


@cases_app.command("open")
def case_open(
    subject: str = typer.Argument(..., help="An address or a name with open hits or AML alerts."),
    user: str = AS,
) -> None:
    """Open a case grouping the subject's open hits and AML alerts."""
    from fictra.compliance.cases import open_case

    case = _run(
        "compliance.manage", user, lambda s, a: open_case(s, subject=subject, actor=a, clock=SystemClock())
    )
    say(
        f"Case {case.id} opened for {case.subject}: {len(case.hit_ids)} hits, "
        f"{len(case.alert_ids)} AML alerts."
    )


@cases_app.command("list")
def case_list(state: str | None = typer.Option(None, "--state")) -> None:
    """Cases, newest first."""
    from fictra.compliance.queries import list_cases

    for c in _run("compliance.read", None, lambda s, a: list_cases(s, state=state)):
        say(
            f"#{c.id} {c.state}{' (' + c.resolution + ')' if c.resolution else ''}  {c.subject}  "
            f"assignee {c.assignee}"
        )


@cases_app.command("state")
def case_state(
    case_id: int = typer.Argument(...),
    state: str = typer.Argument(..., help="investigating, escalated or closed."),
    resolution: str | None = typer.Option(None, "--resolution", help="no_action or reported (closing)."),
    note: str | None = typer.Option(None, "--note"),
    user: str = AS,
) -> None:
    """Move a case (open → investigating → escalated → closed)."""
    from fictra.compliance.cases import transition

    case = _run(
        "compliance.manage",
        user,
        lambda s, a: transition(
            s, case_id=case_id, to_state=state, actor=a, clock=SystemClock(), note=note, resolution=resolution
        ),
    )
    say(f"Case {case.id} is {case.state}{' (' + case.resolution + ')' if case.resolution else ''}.")


@sars_app.command("draft")
def sar_draft(
    case_id: int = typer.Argument(...), narrative: str = typer.Option(..., "--narrative"), user: str = AS
) -> None:
    """Draft a report from a case."""
    from fictra.compliance.cases import draft_sar

    sar = _run(
        "compliance.manage",
        user,
        lambda s, a: draft_sar(s, case_id=case_id, narrative=narrative, actor=a, clock=SystemClock()),
    )
    say(f"Report {sar.id} drafted from case {case_id} (content {sar.content_hash[:12]}).")


@sars_app.command("approve")
def sar_approve(sar_id: int = typer.Argument(...), user: str = AS) -> None:
    """Approve a report (the compliance officer and the legal representative are both needed)."""
    from fictra.compliance.cases import approve_sar

    v = _run(
        "compliance.approve", user, lambda s, a: approve_sar(s, sar_id=sar_id, actor=a, clock=SystemClock())
    )
    say(f"Report {sar_id}: {'approved' if v.satisfied else 'still needs ' + str(v.missing)}.")


@sars_app.command("file")
def sar_file(
    sar_id: int = typer.Argument(...), reference: str = typer.Option(..., "--reference"), user: str = AS
) -> None:
    """Record the filing with the authority's submission reference."""
    from fictra.compliance.cases import file_sar

    sar = _run(
        "compliance.manage",
        user,
        lambda s, a: file_sar(s, sar_id=sar_id, reference=reference, actor=a, clock=SystemClock()),
    )
    say(f"Report {sar.id} filed: {sar.filing_reference}.")


@sars_app.command("export")
def sar_export(
    sar_id: int = typer.Argument(...),
    out: Path = typer.Option(..., "--out", "-o", help="File to write."),
    fmt: str = typer.Option("pdf", "--format", help="pdf or json."),
) -> None:
    """Write a report as PDF or JSON."""
    from fictra.compliance.cases import render_sar

    data, _ = _run("compliance.read", None, lambda s, a: render_sar(s, sar_id=sar_id, fmt=fmt))
    out.write_bytes(data)
    say(f"Report {sar_id} written to {out} ({len(data)} bytes).")


@filings_app.command("list")
def filings_list() -> None:
    """The calendar around today: filed, due, missed."""
    from fictra.compliance.filings import calendar, filed

    config = config_set().compliance
    now = SystemClock().now()
    done = _run("compliance.read", None, lambda s, a: filed(s))
    for d in calendar(config, now=now):
        f = done.get((d.filing.name, d.period))
        state = f"filed {f.reference}" if f else ("MISSED" if d.due_at <= now else "due")
        say(f"{d.due_at:%Y-%m-%d}  {d.filing.name} {d.period} ({d.filing.authority})  {state}")


@filings_app.command("file")
def filings_file(
    name: str = typer.Argument(...),
    period: str = typer.Argument(..., help="2027-01, 2027-Q1 or 2027."),
    reference: str = typer.Option(..., "--reference"),
    user: str = AS,
) -> None:
    """Mark a filing filed for a period with its submission reference."""
    from fictra.compliance.filings import mark_filed

    config = config_set().compliance
    _run(
        "compliance.manage",
        user,
        lambda s, a: mark_filed(
            s, config=config, name=name, period=period, reference=reference, actor=a, clock=SystemClock()
        ),
    )
    say(f"{name} {period} filed ({reference}).")


@feeds_app.command("read")
def feeds_read(user: str = AS) -> None:
    """Read every configured feed now; new items become triage tasks."""
    from fictra.compliance.filings import read_feeds

    cfg = config_set()
    n = _run(
        "compliance.manage",
        user,
        lambda s, a: read_feeds(s, config=cfg.compliance, base_dir=cfg.config_dir, clock=SystemClock()),
    )
    say(f"{n} new item(s) to triage.")


@feeds_app.command("list")
def feeds_list() -> None:
    """Feed items, newest first."""
    from fictra.compliance.filing_models import FeedItem

    async def items(s: AsyncSession, a: object) -> list[FeedItem]:
        return list((await s.scalars(select(FeedItem).order_by(FeedItem.id.desc()).limit(100))).all())

    for i in _run("compliance.read", None, items):
        say(f"#{i.id} [{i.state}] {i.feed}: {i.title}  {i.link}")


@feeds_app.command("triage")
def feeds_triage(
    item_id: int = typer.Argument(...), note: str = typer.Option(..., "--note"), user: str = AS
) -> None:
    """Close a triage task with a note."""
    from fictra.compliance.filings import triage

    _run(
        "compliance.manage",
        user,
        lambda s, a: triage(s, item_id=item_id, note=note, actor=a, clock=SystemClock()),
    )
    say(f"Item {item_id} triaged.")


__all__ = ["cases_app", "feeds_app", "filings_app", "sars_app", "settings"]
