"""The incident report from the runbook's template, as Markdown, HTML and PDF.

One Jinja2 template (``templates/report.md.j2``) writes the Markdown: summary, classification, timeline,
impact, root cause, actions taken (with their on-chain transactions: hash, block, gas), corrective
actions with owners and due dates, preventive measures, communications log and evidence hashes. The
HTML is that Markdown rendered by markdown-it-py (raw HTML disabled, so nothing typed into an incident
becomes markup) inside a print stylesheet; the PDF is the HTML laid out by WeasyPrint.
:func:`generate` also records the post-incident output ``report``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.clock import Clock, SystemClock
from fictra.errors import UsageError
from fictra.incidents.communications import CATEGORY_TITLES
from fictra.incidents.events import audit_change, log_event
from fictra.incidents.linked_actions import NO_ACTIONS, ActionLedger
from fictra.incidents.models import IncidentEvent
from fictra.incidents.outputs import mark_output
from fictra.incidents.phases import Phase
from fictra.incidents.queries import get_incident
from fictra.incidents.records import OPEN, load_incident
from fictra.incidents.timeline import timeline
from fictra.text import markdown_escape

__all__ = ["FORMATS", "MEDIA_TYPES", "generate", "render"]

Format = Literal["md", "html", "pdf"]
FORMATS: tuple[str, ...] = ("md", "html", "pdf")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
_DIR = Path(__file__).parent / "templates"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def _cell(value: Any) -> str:
    """A Markdown table cell: line breaks flattened, controls stripped, markup (pipes too) escaped."""
    return markdown_escape(" ".join(str(value).split()))


def _md(value: Any) -> str:
    """Free text typed by a person, as Markdown that shows it literally (no raw HTML, links...)."""
    return markdown_escape(str(value))


_md_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_DIR),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # noqa: S701 - Markdown source; the HTML step escapes (markdown-it, html=False)
    keep_trailing_newline=True,
)
_md_env.filters.update(
    when=_when,
    when_s=lambda v: v.strftime("%Y-%m-%d %H:%M:%S") if v is not None else "-",
    day=lambda v: v.strftime("%Y-%m-%d"),
    cell=_cell,
    md=_md,
    phase=lambda p: str(p).replace("_", "-"),
)
_html_env = jinja2.Environment(loader=jinja2.FileSystemLoader(_DIR), autoescape=True)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def _duration(start: datetime, end: datetime) -> str:
    minutes = int((end - start).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return (f"{days} d " if days else "") + f"{hours} h {mins} min"


async def _markdown_text(
    session: AsyncSession, incident_id: int, now: datetime, actions: ActionLedger
) -> str:
    from fictra.incidents.evidence import list_evidence

    view = await get_incident(session, incident_id)
    outputs = {o.key: o for o in view.outputs}
    updates = (
        (
            await session.execute(
                select(IncidentEvent)
                .where(IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "status_update")
                .order_by(IncidentEvent.id)
            )
        )
        .scalars()
        .all()
    )
    return _md_env.get_template("report.md.j2").render(
        incident=view,
        category_title=CATEGORY_TITLES.get(view.category, view.category),
        outputs=outputs,
        response_outputs=[o for o in view.outputs if o.phase == Phase.RESPONSE.value],
        recovery_outputs=[o for o in view.outputs if o.phase == Phase.RECOVERY.value],
        timeline=await timeline(session, incident_id, actions=actions),
        actions=await actions.actions(session, incident_id=incident_id),
        updates=updates,
        evidence=await list_evidence(session, incident_id=incident_id),
        duration=_duration(view.declared_at, view.closed_at or now),
        now=now,
    )


def _html(markdown_text: str, incident_id: int, title: str) -> str:
    body = Markup(_markdown.render(markdown_text))  # noqa: S704 - markdown-it output with raw HTML disabled
    return _html_env.get_template("report.html.j2").render(
        body=body, incident={"id": incident_id, "title": title}
    )


def _pdf(html: str) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]

    data = HTML(string=html, base_url=str(_DIR)).write_pdf()
    if not isinstance(data, bytes):
        raise RuntimeError("WeasyPrint returned no PDF")
    return data


async def render(
    session: AsyncSession,
    incident_id: int,
    fmt: str,
    *,
    clock: Clock | None = None,
    actions: ActionLedger = NO_ACTIONS,
) -> bytes:
    """The report as ``fmt`` ("md", "html" or "pdf"), UTF-8 for the text formats; ``actions`` gives
    the linked emergency actions (none without it)."""
    if fmt not in FORMATS:
        raise UsageError(f"Report format '{fmt}' is not one of: {', '.join(FORMATS)}.")
    now = (clock or SystemClock()).now()
    text = await _markdown_text(session, incident_id, now, actions)
    if fmt == "md":
        return text.encode("utf-8")
    incident = await load_incident(session, incident_id)
    html = _html(text, incident.id, incident.title)
    if fmt == "html":
        return html.encode("utf-8")
    return await asyncio.to_thread(_pdf, html)  # layout takes a while; keep the event loop free


async def generate(
    session: AsyncSession,
    *,
    incident_id: int,
    fmt: str,
    actor: object,
    clock: Clock,
    actions: ActionLedger = NO_ACTIONS,
) -> bytes:
    """Render the report and, in the post-incident phase, record the ``report`` output; audited."""
    data = await render(session, incident_id, fmt, clock=clock, actions=actions)
    incident = await load_incident(session, incident_id)
    recorded = False
    if incident.status == OPEN and incident.phase == Phase.POST_INCIDENT.value:
        recorded = await mark_output(
            session,
            incident=incident,
            key="report",
            text=f"Incident report generated at {_when(clock.now())} ({fmt})",
            source="report",
            actor=actor,
            clock=clock,
        )
    if not recorded:
        await log_event(
            session,
            incident_id=incident_id,
            kind="report",
            actor=actor,
            clock=clock,
            text=f"Incident report generated ({fmt}, {len(data)} bytes)",
            details={"format": fmt, "bytes": len(data)},
        )
    await audit_change(
        session,
        actor=actor,
        action="incident.report",
        incident_id=incident_id,
        clock=clock,
        after={"format": fmt, "bytes": len(data), "report_output": recorded},
    )
    return data
