"""When a window is open: its occurrences from a wall-clock DTSTART in an IANA zone, a duration and an
optional RRULE (python-dateutil), computed on local wall time so that a 02:00 window stays at 02:00 local
across a DST change. Pure functions over :class:`Spec`; the refusals are :class:`UsageError` naming the
value at fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fictra.errors import UsageError

__all__ = ["FREQUENCIES", "Spec", "occurrence_at", "occurrences", "parse_local", "zone"]

FREQUENCIES = ("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")
MAX_SCAN = 20_000  # occurrences walked at most for one question
LOCAL_FORMAT = "%Y-%m-%dT%H:%M:%S"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"Time zone '{name}' is not an IANA zone name (e.g. 'Europe/Zurich', 'UTC')."
        ) from None


def parse_local(value: str) -> datetime:
    try:
        return datetime.strptime(value, LOCAL_FORMAT)
    except ValueError:
        raise UsageError(f"Local start '{value}' is not YYYY-MM-DDTHH:MM:SS.") from None


@dataclass(frozen=True)
class Spec:
    """A window's schedule: ``local_start`` is naive wall time in ``tz``; ``duration`` None is open."""

    local_start: datetime
    tz: ZoneInfo
    duration: timedelta | None
    rrule: str | None = None

    def to_utc(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.tz).astimezone(UTC)

    def to_local(self, when: datetime) -> datetime:
        return when.astimezone(self.tz).replace(tzinfo=None)

    def _rule(self) -> Iterable[datetime]:
        from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

        text = (self.rrule or "").strip()
        if text.upper().startswith("RRULE:"):
            text = text[6:]
        bad = [w for w in ("DTSTART", "\n", "EXDATE", "RDATE") if w in text.upper()]
        if bad or not text:
            raise UsageError(
                f"RRULE '{self.rrule}' must be one rule line such as 'FREQ=WEEKLY;BYDAY=SU' (no DTSTART: "
                "the window's start and time zone give it)."
            )
        freq = next(
            (p.split("=", 1)[1].upper() for p in text.split(";") if p.upper().startswith("FREQ=")), ""
        )
        if freq not in FREQUENCIES:
            raise UsageError(f"RRULE '{self.rrule}': FREQ must be one of {', '.join(FREQUENCIES)}.")
        try:
            rule: Iterable[datetime] = rrulestr(text, dtstart=self.local_start)
            return rule
        except (ValueError, TypeError, KeyError) as exc:
            raise UsageError(f"RRULE '{self.rrule}' is not valid: {exc}.") from None

    def starts(self) -> Iterator[datetime]:
        """Occurrence starts, in order, as UTC instants (at most :data:`MAX_SCAN`)."""
        if self.rrule is None:
            yield self.to_utc(self.local_start)
            return
        for n, local in enumerate(self._rule()):
            if n >= MAX_SCAN:
                return
            yield self.to_utc(local)

    def validate(self) -> None:
        """Refuse a rule that never occurs, or whose occurrences overlap each other."""
        if self.rrule is None:
            return
        first_two = []
        for start in self.starts():
            first_two.append(start)
            if len(first_two) == 2:
                break
        if not first_two:
            raise UsageError(
                f"RRULE '{self.rrule}' has no occurrence from {self.local_start:%Y-%m-%d %H:%M}."
            )
        if self.duration is not None and len(first_two) == 2 and first_two[1] - first_two[0] < self.duration:
            raise UsageError(
                f"RRULE '{self.rrule}' repeats every {first_two[1] - first_two[0]}, sooner than the window's "
                f"duration {self.duration}: its occurrences would overlap."
            )


def occurrences(spec: Spec, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime | None]]:
    """(start, end) of the occurrences that intersect ``[lo, hi)`` (end None: open)."""
    found: list[tuple[datetime, datetime | None]] = []
    for start in spec.starts():
        if start >= hi:
            break
        end = None if spec.duration is None else start + spec.duration
        if end is None or end > lo:
            found.append((start, end))
    return found


def occurrence_at(spec: Spec, when: datetime) -> tuple[datetime, datetime | None] | None:
    """The occurrence open at ``when`` (start inclusive, end exclusive), or None."""
    hits = occurrences(spec, when, when + timedelta(microseconds=1))
    return hits[-1] if hits else None
