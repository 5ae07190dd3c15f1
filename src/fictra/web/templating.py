"""The console's Jinja2 environment: autoescaped templates from ``templates/`` and the filters they use."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SEVERITIES = ("P0", "P1", "P2", "P3")
SEVERITY_NAMES = {"P0": "critical", "P1": "high", "P2": "medium", "P3": "low"}


def iso(value: datetime | None) -> str:
    """ISO 8601 in UTC (what the countdown script parses); empty for None."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def hhmmss(value: datetime | None) -> str:
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def when(value: datetime | None, now: datetime | None = None) -> str:
    """Time for tables, always dated (a shift spans midnight): ``2026-11-21 16:43:20`` (UTC)."""
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def age(value: datetime | None, now: datetime) -> str:
    """How long ago, compact: ``45s``, ``12m``, ``3h 05m``, ``2d 4h``."""
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    seconds = max(0, int((now - value).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


_CLI_HINT = re.compile(r"\s*\((?:[^()]*?\s)?fictra [^()]*\)|,? or POST /api/\S+")


def web_hint(text: str | None) -> str:
    """A how-to written for every surface, as a web form shows it: the CLI command and API route in
    parentheses are left out (the form beside it is how it is done here)."""
    return _CLI_HINT.sub("", text or "").strip()


def short_hash(value: str | None, keep: int = 10) -> str:
    """``0x1234abcd…9f8e`` for a long hex string; the string itself when short."""
    if not value:
        return "-"
    if len(value) <= keep + 6:
        return value
    return f"{value[:keep]}…{value[-4:]}"


def countdown(deadline: datetime | None, now: datetime) -> str:
    """The server-side text of an SLA countdown (the script keeps it live): ``12m 03s`` or
    ``overdue 4m 10s``."""
    if deadline is None:
        return "-"
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=UTC)
    seconds = int((deadline - now).total_seconds())
    sign = "overdue " if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    return f"{sign}{minutes}m {secs:02d}s"


def as_text(value: Any) -> str:
    """Evidence values as short readable text (lists and dicts inline)."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={as_text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(as_text(v) for v in value)
    return str(value)


def changes(before: Any, after: Any) -> list[tuple[str, str, str]]:
    """What an audit entry changed: (field, before, after) for the fields that differ; a whole side
    when the other is absent (a creation or a deletion)."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = list(dict.fromkeys([*before, *after]))
        return [
            (k, as_text(before.get(k, "-")), as_text(after.get(k, "-")))
            for k in keys
            if before.get(k) != after.get(k)
        ]
    return []


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(iso=iso, hhmmss=hhmmss, short_hash=short_hash, as_text=as_text, web_hint=web_hint)
    env.globals.update(changes=changes, when=when, age=age)
    env.filters["unix"] = lambda t: hhmmss(datetime.fromtimestamp(int(t), UTC))
    env.globals.update(
        countdown=countdown, SEVERITIES=SEVERITIES, SEVERITY_NAMES=SEVERITY_NAMES, static_version=_version()
    )
    return env


def _version() -> str:
    """Cache-busting suffix for static URLs: changes when any static file changes."""
    latest = max((p.stat().st_mtime_ns for p in STATIC.rglob("*") if p.is_file()), default=0)
    return str(latest)[-8:]


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
