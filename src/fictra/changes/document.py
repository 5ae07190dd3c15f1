"""The runbook's "Change Requests" template rendered from the record, as Markdown, HTML and PDF.

One Jinja2 template (``templates/change_request.md.j2``) writes the Markdown: summary, description,
affected components and impact, risk evaluation, implementation plan (on-chain steps with their action),
verification plan and result, rollback plan, approvals (current or voided by an edit), schedule and
conflicts, stakeholders, the post-implementation review (performance table, feedback) and the timeline.
The HTML is that Markdown rendered by markdown-it-py (raw HTML disabled: nothing typed becomes markup)
with the review's before/after chart (SVG, :func:`fictra.changes.metrics.svg_chart`) put in place of its
marker; the PDF is the HTML laid out by WeasyPrint. Typed text is escaped in the Markdown."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.changes.context import detail
from fictra.changes.feedback import feedback_of
from fictra.changes.metrics import svg_chart
from fictra.clock import Clock
from fictra.errors import UsageError
from fictra.text import markdown_escape

__all__ = ["FORMATS", "MEDIA_TYPES", "render"]

FORMATS = ("md", "html", "pdf")
MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}
_DIR = Path(__file__).parent / "templates"
# the on-chain actions' status by id, when the platform can tell (emergency actions)
ActionStatus = Callable[[AsyncSession, Sequence[int]], Awaitable[Mapping[int, str]]]


def _when(value: str | datetime | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.strftime("%Y-%m-%d %H:%M UTC")


_md_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_DIR),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # noqa: S701 - Markdown source; the HTML step escapes (markdown-it, html=False)
    keep_trailing_newline=True,
)
_md_env.filters.update(
    when=_when, md=lambda v: markdown_escape(str(v)), cell=lambda v: markdown_escape(" ".join(str(v).split()))
)
_md_env.globals.update(num=lambda v: "no data" if v is None else f"{v:.4g}")
_html_env = jinja2.Environment(loader=jinja2.FileSystemLoader(_DIR), autoescape=True)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


async def _markdown_text(
    session: AsyncSession, change_id: int, clock: Clock, marker: str, action_status: ActionStatus | None
) -> tuple[str, dict[str, Any]]:
    c = await detail(session, change_id=change_id, clock=clock)
    ids = [s["action_id"] for s in c["steps"] if s["action_id"] is not None]
    statuses = dict(await action_status(session, ids)) if action_status is not None and ids else {}
    steps = [{**s, "action_status": statuses.get(s["action_id"])} for s in c["steps"]]
    text = _md_env.get_template("change_request.md.j2").render(
        c=c,
        steps_impl=[s for s in steps if s["phase"] == "implement"],
        steps_rollback=[s for s in steps if s["phase"] == "rollback"],
        feedback=await feedback_of(session, change_id),
        chart_marker=marker,
        now=clock.now(),
    )
    return text, c


def _pdf(html: str) -> bytes:
    from weasyprint import HTML  # type: ignore[import-untyped]

    data = HTML(string=html, base_url=str(_DIR)).write_pdf()
    if not isinstance(data, bytes):
        raise RuntimeError("WeasyPrint returned no PDF")
    return data


async def render(
    session: AsyncSession,
    change_id: int,
    fmt: str,
    *,
    clock: Clock,
    action_status: ActionStatus | None = None,
) -> bytes:
    """The change request as ``fmt`` ("md", "html" or "pdf"); UTF-8 for the text formats."""
    if fmt not in FORMATS:
        raise UsageError(f"Change request format '{fmt}' is not one of: {', '.join(FORMATS)}.")
    marker = f"CHART{secrets.token_hex(8)}"
    text, c = await _markdown_text(session, change_id, clock, marker, action_status)
    if fmt == "md":
        return text.replace(marker, "(chart: see the HTML or PDF)").encode()
    body = _markdown.render(text)
    review = c.get("review") or {}
    chart = svg_chart(review["performance"]) if review.get("performance") else ""
    body = body.replace(f"<p>{marker}</p>", f'<figure class="chart">{chart}</figure>')
    html = _html_env.get_template("change_request.html.j2").render(
        body=Markup(body),  # noqa: S704 - markdown-it output with raw HTML disabled, and our own SVG
        change={"id": c["id"], "title": c["title"]},
    )
    if fmt == "html":
        return html.encode()
    return await asyncio.to_thread(_pdf, html)
