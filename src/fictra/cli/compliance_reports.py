"""`fictra compliance report` (transaction reports per period, JSON or CSV) and `fictra compliance filings
generate|drafts|show|review|approve|submit` (a filing generated from its template, reviewed, approved by a
compliance officer, filed with the submission reference). Registered by :mod:`fictra.cli.compliance`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from pathlib import Path

import typer

from fictra.cli._common import config_set, settings
from fictra.cli.compliance import app
from fictra.cli.compliance_cases import AS, _run, filings_app
from fictra.cli.incidents_common import say
from fictra.clock import SystemClock
from fictra.errors import UsageError

__all__ = ["report"]


def _day(value: str, option: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    except ValueError:
        raise UsageError(f"{option} '{value}' is not a date (YYYY-MM-DD).") from None


@app.command("report")
def report(
    start: str = typer.Option(..., "--from", help="First day (YYYY-MM-DD, UTC), included."),
    end: str = typer.Option(..., "--to", help="Last day (YYYY-MM-DD, UTC), excluded."),
    fmt: str = typer.Option("json", "--format", help="json or csv."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write to this file (default: stdout)."),
) -> None:
    """Transaction report for a period: volumes per participant, large transfers, by country code."""
    from fictra.compliance.reports import report_csv, transaction_report

    if fmt not in ("json", "csv"):
        raise UsageError(f"--format '{fmt}' is not one of: json, csv.")
    config = config_set().compliance
    s, e = _day(start, "--from"), _day(end, "--to")
    data = _run(
        "compliance.read", None, lambda ses, a: transaction_report(ses, config=config, start=s, end=e)
    )
    text = report_csv(data) if fmt == "csv" else json.dumps(data, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        say(f"Report {start}..{end} written to {output} ({len(data['large_transfers'])} large transfer(s)).")


@filings_app.command("generate")
def filings_generate(
    name: str = typer.Argument(...),
    period: str = typer.Argument(..., help="2027-01, 2027-Q1 or 2027."),
    user: str = AS,
) -> None:
    """Generate a filing for a period from its template (a new draft)."""
    from fictra.compliance.filing_drafts import generate

    config, base = config_set().compliance, settings().config_dir

    async def go(s, a):  # type: ignore[no-untyped-def]
        d = await generate(
            s, config=config, name=name, period=period, base_dir=base, actor=a, clock=SystemClock()
        )
        return d.id, d.content_hash

    draft_id, digest = _run("compliance.manage", user, go)
    say(f"Filing draft {draft_id} generated for {name} {period} (content {digest[:12]}).")


@filings_app.command("drafts")
def filings_drafts(name: str | None = typer.Argument(None)) -> None:
    """Filing drafts (newest first) with their state."""
    from fictra.compliance.filing_drafts import list_drafts

    async def go(s, a):  # type: ignore[no-untyped-def]
        return [
            f"{d.id}  {d.name} {d.period_label}  {d.state}"
            + (f"  reviewed by {d.reviewed_by}" if d.reviewed_by else "")
            + (f"  ref {d.reference}" if d.reference else "")
            for d in await list_drafts(s, name=name)
        ]

    for line in _run("compliance.read", None, go):
        say(line)


@filings_app.command("show")
def filings_show(draft_id: int = typer.Argument(...)) -> None:
    """Print a draft's rendered body."""
    from fictra.compliance.filing_drafts import _draft

    async def go(s, a):  # type: ignore[no-untyped-def]
        return (await _draft(s, draft_id)).body

    typer.echo(_run("compliance.read", None, go), nl=False)


@filings_app.command("review")
def filings_review(
    draft_id: int = typer.Argument(...), note: str = typer.Option(..., "--note"), user: str = AS
) -> None:
    """Mark a generated draft reviewed (with what was checked)."""
    from fictra.compliance.filing_drafts import review

    _run(
        "compliance.manage",
        user,
        lambda s, a: review(s, draft_id=draft_id, note=note, actor=a, clock=SystemClock()),
    )
    say(f"Filing draft {draft_id} reviewed.")


@filings_app.command("approve")
def filings_approve(draft_id: int = typer.Argument(...), user: str = AS) -> None:
    """Approve a reviewed draft (a compliance officer other than the reviewer)."""
    from fictra.compliance.filing_drafts import approve

    v = _run(
        "compliance.approve", user, lambda s, a: approve(s, draft_id=draft_id, actor=a, clock=SystemClock())
    )
    say(f"Filing draft {draft_id}: " + ("approved." if v.satisfied else f"still missing {v.missing}."))


@filings_app.command("submit")
def filings_submit(
    draft_id: int = typer.Argument(...), reference: str = typer.Option(..., "--reference"), user: str = AS
) -> None:
    """Mark an approved draft filed with the authority's submission reference."""
    from fictra.compliance.filing_drafts import file_draft

    config = config_set().compliance
    _run(
        "compliance.manage",
        user,
        lambda s, a: file_draft(
            s, config=config, draft_id=draft_id, reference=reference, actor=a, clock=SystemClock()
        ),
    )
    say(f"Filing draft {draft_id} filed ({reference}).")
