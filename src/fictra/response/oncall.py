"""On-call: who is on call in a schedule now and next.

A schedule is layers of rotations (each: people taking turns, shifts of fixed length from a hand-off
time); overrides (made by hand or imported from iCalendar) replace the rotation for their interval. Pure
functions over the config and the override rows, so they are tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fictra.response.config import OncallConfig, Rotation, Schedule


@dataclass(frozen=True)
class Shift:
    schedule: str
    person: str
    start: datetime
    end: datetime
    source: str  # rotation name, "override" or "ical"


@dataclass(frozen=True)
class OverrideSpan:
    schedule: str
    person: str
    start: datetime
    end: datetime
    source: str = "override"


def rotation_shift(rotation: Rotation, schedule: str, at: datetime) -> Shift | None:
    """The rotation's shift covering ``at`` (None before its first hand-off)."""
    start = datetime.fromisoformat(rotation.start)
    if at < start:
        return None
    index = int((at - start) / rotation.shift)
    begin = start + rotation.shift * index
    person = rotation.people[index % len(rotation.people)]
    return Shift(schedule, person, begin, begin + rotation.shift, rotation.name)


def _covering(overrides: Iterable[OverrideSpan], schedule: str, at: datetime) -> list[OverrideSpan]:
    return [o for o in overrides if o.schedule == schedule and o.start <= at < o.end]


def on_call(schedule: Schedule, at: datetime, overrides: Sequence[OverrideSpan] = ()) -> list[Shift]:
    """Everyone on call at ``at``: overrides covering ``at`` win over the rotations; otherwise one person
    per rotation layer."""
    active = _covering(overrides, schedule.name, at)
    if active:
        return [Shift(schedule.name, o.person, o.start, o.end, o.source) for o in active]
    shifts = [rotation_shift(r, schedule.name, at) for r in schedule.rotations]
    return [s for s in shifts if s is not None]


def _boundaries(schedule: Schedule, at: datetime, overrides: Sequence[OverrideSpan]) -> list[datetime]:
    points: list[datetime] = []
    for rot in schedule.rotations:
        shift = rotation_shift(rot, schedule.name, at)
        points.append(shift.end if shift else datetime.fromisoformat(rot.start))
    for o in overrides:
        if o.schedule == schedule.name:
            points.extend(p for p in (o.start, o.end) if p > at)
    return sorted(p for p in points if p > at)


def next_on_call(
    schedule: Schedule, at: datetime, overrides: Sequence[OverrideSpan] = (), *, horizon: int = 50
) -> tuple[datetime, list[Shift]] | None:
    """The next change of who is on call after ``at``: (when, who). None when nothing changes."""
    current = {s.person for s in on_call(schedule, at, overrides)}
    cursor = at
    for _ in range(horizon):
        points = _boundaries(schedule, cursor, overrides)
        if not points:
            return None
        cursor = points[0]
        shifts = on_call(schedule, cursor, overrides)
        if {s.person for s in shifts} != current:
            return cursor, shifts
    return None


@dataclass(frozen=True)
class Directory:
    """People, roles and schedules, with the overrides valid around now."""

    config: OncallConfig
    overrides: tuple[OverrideSpan, ...] = ()

    def schedule(self, name: str) -> Schedule | None:
        return next((s for s in self.config.schedules if s.name == name), None)

    def with_role(self, role: str) -> list[str]:
        return sorted(name for name, p in self.config.people.items() if role in p.roles)

    def on_call(self, schedule: str, at: datetime) -> list[str]:
        sched = self.schedule(schedule)
        if sched is None:
            spans = _covering(self.overrides, schedule, at)
            return sorted({o.person for o in spans})
        return sorted({s.person for s in on_call(sched, at, self.overrides)})


def ical_shifts(data: bytes, *, schedule: str, now: datetime, horizon: timedelta) -> list[OverrideSpan]:
    """Shifts from an iCalendar file: each VEVENT (SUMMARY = person) between now and now+horizon,
    recurring events expanded. ValueError naming the problem for a file that is not iCalendar."""
    import icalendar

    try:
        cal = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise ValueError(f"not an iCalendar file ({exc})") from None
    end = now + horizon
    spans: list[OverrideSpan] = []
    events = list(cal.walk("VEVENT"))
    if not events:
        raise ValueError("the iCalendar file has no VEVENT (no shifts)")
    for event in events:
        person = str(event.get("SUMMARY", "")).strip()
        if not person:
            raise ValueError(f"an event ({event.get('UID', '?')}) has no SUMMARY naming the person on call")
        start = event.decoded("DTSTART")
        stop = event.decoded("DTEND") if event.get("DTEND") else start + event.decoded("DURATION")
        if not isinstance(start, datetime) or not isinstance(stop, datetime) or start.tzinfo is None:
            raise ValueError(f"event '{person}': DTSTART/DTEND must be date-times with a zone")
        length = stop - start
        for occ in _occurrences(event, start, now - length, end):
            spans.append(OverrideSpan(schedule, person, occ, occ + length, "ical"))
    return sorted(spans, key=lambda s: (s.start, s.person))


def _occurrences(event: object, start: datetime, lo: datetime, hi: datetime) -> list[datetime]:
    from dateutil.rrule import rrulestr  # type: ignore[import-untyped]

    rule = getattr(event, "get")("RRULE")  # noqa: B009 - icalendar's Component.get
    if rule is None:
        return [start] if lo <= start < hi else []
    text = rule.to_ical().decode()
    recur = rrulestr(text, dtstart=start)
    return list(recur.between(lo, hi, inc=True))
