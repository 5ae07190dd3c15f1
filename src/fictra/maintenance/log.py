"""The runbook's "Maintenance Logs" template rendered from what happened in a window: planned steps,
steps carried out, actions, alerts held (and how each ended), notes and the timeline, as Markdown; HTML
through markdown-it-py with raw HTML disabled (nothing typed becomes markup)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import jinja2
from markdown_it import MarkdownIt
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.maintenance.queries import get_window
from fictra.text import markdown_escape

__all__ = ["render_html", "render_markdown"]

_DIR = Path(__file__).parent / "templates"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_DIR),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # noqa: S701 - Markdown source; the HTML step escapes (markdown-it, html=False)
    keep_trailing_newline=True,
)
_env.filters.update(
    when=_when,
    md=lambda v: markdown_escape(str(v)),
    cell=lambda v: markdown_escape(" ".join(str(v).split())),
)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


async def render_markdown(session: AsyncSession, *, window_id: int, now: datetime) -> str:
    detail = await get_window(session, window_id=window_id, now=now)
    by_kind = {k: [e for e in detail.events if e.kind == k] for k in ("step", "action", "note")}
    return _env.get_template("log.md.j2").render(
        window=detail.window,
        steps=by_kind["step"],
        actions=by_kind["action"],
        notes=by_kind["note"],
        holds=detail.holds,
        events=detail.events,
        now=now,
    )


async def render_html(session: AsyncSession, *, window_id: int, now: datetime) -> str:
    body = _markdown.render(await render_markdown(session, window_id=window_id, now=now))
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Maintenance Log</title></head>'
        f"<body>{body}</body></html>"
    )
