"""A window row's schedule and scope as values: its :class:`~fictra.maintenance.schedule.Spec`, the
occurrence open at an instant (state, early end and cancellation applied), its matchers, and overlap
between two windows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from fictra.errors import UsageError
from fictra.maintenance.models import MaintenanceWindow, WindowState
from fictra.maintenance.schedule import Spec, occurrences, parse_local, zone
from fictra.response.matchers import Matcher, parse_matcher

__all__ = ["active_occurrence", "first_overlap", "parse_scope", "scope_key", "spec_of", "window_occurrences"]

Occurrence = tuple[datetime, datetime | None]


def parse_scope(texts: Sequence[str]) -> list[Matcher]:
    """Label matchers (the silences' syntax, RE2); at least one, and not one that matches everything."""
    if not texts:
        raise UsageError(
            "A maintenance window needs a scope: at least one matcher, e.g. 'component=\"PaymentToken\"'."
        )
    out: list[Matcher] = []
    for text in texts:
        try:
            out.append(parse_matcher(text))
        except ValueError as exc:
            raise UsageError(f"Maintenance scope matcher: {exc}.") from None
    if all(m.op in ("=~", "!~", "!=") and m.value in ("", ".*") for m in out):
        raise UsageError("Maintenance scope would hold every alert; name at least one label value.")
    return out


def scope_key(matchers: Sequence[Matcher]) -> str:
    return ",".join(sorted({str(m) for m in matchers}))


def spec_of(row: MaintenanceWindow) -> Spec:
    duration = None if row.duration_seconds is None else timedelta(seconds=row.duration_seconds)
    return Spec(parse_local(row.local_start), zone(row.timezone), duration, row.rrule)


def _clip(occ: Occurrence, row: MaintenanceWindow) -> Occurrence | None:
    start, end = occ
    if row.ended_at is not None:
        if row.ended_at <= start:
            return None
        end = row.ended_at if end is None else min(end, row.ended_at)
    return start, end


def window_occurrences(row: MaintenanceWindow, lo: datetime, hi: datetime) -> list[Occurrence]:
    """Occurrences intersecting ``[lo, hi)``, cut at ``ended_at``; none for a canceled window that never
    opened."""
    found = [c for o in occurrences(spec_of(row), lo, hi) if (c := _clip(o, row)) is not None]
    return [(s, e) for s, e in found if e is None or e > lo]


def active_occurrence(row: MaintenanceWindow, now: datetime) -> Occurrence | None:
    if row.state not in (WindowState.SCHEDULED.value, WindowState.ACTIVE.value):
        return None
    hits = window_occurrences(row, now, now + timedelta(microseconds=1))
    return hits[-1] if hits else None


def first_overlap(a: Sequence[Occurrence], b: Sequence[Occurrence]) -> tuple[Occurrence, Occurrence] | None:
    """The first pair of intersecting occurrences (both lists in start order), or None."""
    i = j = 0
    while i < len(a) and j < len(b):
        (sa, ea), (sb, eb) = a[i], b[j]
        if (ea is None or sb < ea) and (eb is None or sa < eb):
            return a[i], b[j]
        if ea is not None and (eb is None or ea <= eb):
            i += 1
        else:
            j += 1
    return None
