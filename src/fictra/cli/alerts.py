"""`fictra alerts` commands: list alerts with filters, show one with its evidence and timeline."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import typer
from rich.table import Table

from fictra.alerting.queries import get_alert, list_alerts
from fictra.alerting.schemas import AlertDetail, AlertView
from fictra.cli._common import console, settings
from fictra.cli._schema import ensure_schema
from fictra.clock import SystemClock
from fictra.config.fields import parse_duration
from fictra.db.engine import make_engine, session_factory
from fictra.errors import UsageError

app = typer.Typer(help="List and inspect alerts.", no_args_is_help=True)


def _labels(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--label '{pair}' is not key=value.")
        out[key] = value
    return out


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        return SystemClock().now() - parse_duration(value)
    except ValueError:
        raise UsageError(
            f"--since '{value}' is neither an ISO time (2026-01-01T12:00:00Z) nor a duration (15m, 2h, 1d)."
        ) from None


async def _with_session(fn: Any) -> Any:
    s = settings()
    url = s.resolved_database_url()
    ensure_schema(url, s.data_dir)  # no Alembic (nor every model) when the schema is known current
    engine = make_engine(url)
    try:
        async with session_factory(engine)() as session:
            return await fn(session)
    finally:
        await engine.dispose()


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "-"


@app.command("list")
def list_cmd(
    status: str | None = typer.Option(None, "--status", help="firing or resolved."),
    severity: list[str] | None = typer.Option(None, "--severity", help="P0..P3 (repeatable)."),
    confirmation: str | None = typer.Option(
        None, "--confirmation", help="provisional, confirmed or retracted."
    ),
    label: list[str] | None = typer.Option(None, "--label", help="key=value (repeatable, all must match)."),
    since: str | None = typer.Option(
        None, "--since", help="Last seen at/after: ISO time or a duration (2h)."
    ),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines instead of a table."),
) -> None:
    """Alerts, most recently seen first."""
    labels, since_at = _labels(label or []), _since(since)

    async def run(session: Any) -> list[AlertView]:
        return await list_alerts(
            session,
            status=status,
            severity=severity or None,
            confirmation=confirmation,
            labels=labels,
            since=since_at,
            limit=limit,
        )

    alerts: list[AlertView] = asyncio.run(_with_session(run))
    if as_json:
        for alert in alerts:
            typer.echo(alert.model_dump_json())
        return
    if not alerts:
        typer.echo("No alerts match.")
        return
    # compact enough for an 80-column terminal: the summary is cut, `fictra alerts show ID` has it all
    today = datetime.now(UTC).date()

    def state(a: AlertView) -> str:
        if a.confirmation == "retracted":
            return "retracted"
        return "provisional" if a.confirmation == "provisional" and a.status == "firing" else a.status

    def seen(a: AlertView) -> str:
        if a.last_seen is None:
            return "-"
        return a.last_seen.strftime("%H:%M:%S" if a.last_seen.date() == today else "%m-%d %H:%M")

    rows = [
        (
            str(a.id),
            a.severity,
            state(a),
            str(a.count),
            seen(a),
            a.monitor if len(a.monitor) <= 18 else a.monitor[:17] + "…",
        )
        for a in alerts
    ]
    headers = ("id", "sev", "state", "count", "last seen", "monitor")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    room = max(12, console.width - sum(widths) - 2 * len(widths) - 1)
    table = Table(box=None, pad_edge=False, header_style="bold")
    for header in headers:
        table.add_column(header, no_wrap=True, justify="right" if header in ("id", "count") else "left")
    table.add_column("summary", no_wrap=True)
    for row, alert in zip(rows, alerts, strict=True):
        summary = alert.summary if len(alert.summary) <= room else alert.summary[: room - 1] + "…"
        table.add_row(*row, summary)
    console.print(table)


@app.command("show")
def show_cmd(
    ref: str = typer.Argument(..., help="Alert id or fingerprint prefix."),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of text."),
) -> None:
    """One alert: labels, evidence, recent occurrences and its timeline."""

    async def run(session: Any) -> AlertDetail:
        return await get_alert(session, ref)

    alert: AlertDetail = asyncio.run(_with_session(run))
    if as_json:
        typer.echo(alert.model_dump_json(indent=2))
        return
    block = "-" if alert.block_number is None else str(alert.block_number)
    lines = [
        f"Alert {alert.id}  {alert.severity}  {alert.status}  {alert.confirmation}",
        f"  summary:      {alert.summary}",
        f"  monitor:      {alert.monitor}  (network {alert.network})",
        f"  fingerprint:  {alert.fingerprint}",
        f"  labels:       {', '.join(f'{k}={v}' for k, v in sorted(alert.labels.items()))}",
        f"  count:        {alert.count}  first seen {_time(alert.first_seen)}"
        f"  last seen {_time(alert.last_seen)}",
        f"  ack deadline: {_time(alert.ack_deadline)}"
        + (
            f"  acknowledged {_time(alert.acknowledged_at)} by {alert.acknowledged_by}"
            if alert.acknowledged_at
            else ""
        ),
        f"  block:        {block} {alert.block_hash or ''}"
        f"  (needs {alert.required_confirmations} confirmations)",
        f"  tx hashes:    {', '.join(alert.tx_hashes) or '-'}",
    ]
    if alert.retraction_reason:
        lines.append(f"  retracted:    {alert.retraction_reason}")
    lines.append("Evidence:")
    lines.extend("  " + line for line in json.dumps(alert.evidence, indent=2, sort_keys=True).splitlines())
    lines.append(f"Recent occurrences ({len(alert.history)}):")
    for occ in alert.history[-5:]:
        lines.append(f"  {occ.get('at', '?')}  block {occ.get('block_number')}  {occ.get('summary', '')}")
    lines.append("Timeline:")
    for event in alert.events:
        details = json.dumps(event.details, sort_keys=True) if event.details else ""
        lines.append(f"  {_time(event.at)}  {event.kind:<10} {details}")
    typer.echo("\n".join(lines))
