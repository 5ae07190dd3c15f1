"""Allowed weekly windows and recurring freeze periods (changes.yaml), as pure functions of a slot."""

from __future__ import annotations

from datetime import UTC, datetime

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

from fictra.changes.config import DAYS, ChangesConfig

__all__ = ["freezes_hit", "outside_windows"]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def outside_windows(cfg: ChangesConfig, start: datetime, end: datetime) -> bool:
    """True when the slot [start, end) fits in no allowed window (no window configured: never)."""
    if not cfg.windows:
        return False
    start, end = _utc(start), _utc(end)
    if end.date() != start.date():
        return True
    day = DAYS[start.weekday()]
    return not any(day in w.days and w.start <= start.time() and end.time() <= w.end for w in cfg.windows)


def freezes_hit(cfg: ChangesConfig, start: datetime, end: datetime) -> list[str]:
    """The freeze periods the slot overlaps, each named with its occurrence."""
    start, end = _utc(start), _utc(end)
    out = []
    for f in cfg.freezes:
        rule = rrulestr(f.rrule, forceset=True)
        for occ in rule.between(start - f.duration, end, inc=True):
            o_start = _utc(occ)
            if o_start < end and o_start + f.duration > start:
                out.append(f"freeze '{f.name}' {o_start.isoformat()} to {(o_start + f.duration).isoformat()}")
                break
    return out
