"""The change calendar: a week or a month of planned changes and maintenance window occurrences, each change
with its scheduling conflicts computed now (another change on a shared component in an overlapping slot,
outside every allowed window, a freeze, an open P0/P1 incident); and the same as an iCalendar feed
(``/changes/calendar.ics``, RFC 5545 via the ``icalendar`` library) for calendar clients (an API token
as ``Authorization: Bearer``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.api.deps import app_context, guarded
from fictra.api.routes.changes import changes_context
from fictra.changes import machine, schedule
from fictra.changes.context import ChangesContext
from fictra.changes.models import ChangeRequest
from fictra.maintenance.models import MaintenanceWindow
from fictra.maintenance.windows import window_occurrences
from fictra.web.access import ConsoleRoute, SignedIn, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
FEED_BEFORE, FEED_AFTER = timedelta(days=31), timedelta(days=180)


@dataclass
class Item:
    kind: str  # change | window
    id: int
    title: str
    start: datetime
    end: datetime | None
    state: str
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def href(self) -> str:
        return f"/changes/{self.id}" if self.kind == "change" else f"/maintenance/{self.id}"


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def items_between(session: AsyncSession, ctx: ChangesContext, lo: datetime, hi: datetime) -> list[Item]:
    """Changes whose planned slot meets [lo, hi) (with their conflicts unless final) and the window
    occurrences in it (canceled ones left out), by start."""
    out: list[Item] = []
    stmt = select(ChangeRequest).where(
        ChangeRequest.planned_start.is_not(None),
        ChangeRequest.planned_start < hi,
        ChangeRequest.planned_end > lo,
    )
    for c in (await session.execute(stmt.order_by(ChangeRequest.planned_start))).scalars():
        if c.state == "canceled" or c.planned_start is None:
            continue
        found: list[dict[str, Any]] = []
        if c.state not in machine.TERMINAL:
            found = await schedule.conflicts_of(
                session, cfg=ctx.config, change=c, incidents_on=ctx.incidents_on
            )
        out.append(Item("change", c.id, c.title, _utc(c.planned_start), c.planned_end and _utc(c.planned_end),
                        c.state, found))  # fmt: skip
    windows = (
        await session.execute(select(MaintenanceWindow).where(MaintenanceWindow.state != "canceled"))
    ).scalars()
    for w in windows:
        for start, end in window_occurrences(w, lo, hi):
            out.append(Item("window", w.id, w.title, start, end, w.state))
    return sorted(out, key=lambda i: (i.start, i.kind, i.id))


def _range(view: str, day: date) -> tuple[date, date]:
    if view == "month":
        first = day.replace(day=1)
        nxt = (first + timedelta(days=32)).replace(day=1)
        return first - timedelta(days=first.weekday()), nxt + timedelta(days=(7 - nxt.weekday()) % 7)
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


def _at(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=UTC)


@router.get("/changes/calendar", **guarded("changes.read"))
async def calendar_page(request: Request, actor: SignedIn) -> Response:
    """``view`` week (default) or month; ``date`` (YYYY-MM-DD, default today, UTC)."""
    ctx = changes_context(request)
    now = ctx.clock.now()
    view = "month" if request.query_params.get("view") == "month" else "week"
    try:
        day = date.fromisoformat(request.query_params.get("date") or now.date().isoformat())
    except ValueError:
        day = now.date()
    first, last = _range(view, day)
    async with app_context(request).sessions() as session:
        items = await items_between(session, ctx, _at(first), _at(last))
    days = [first + timedelta(days=i) for i in range((last - first).days)]
    by_day: dict[date, list[Item]] = {d: [] for d in days}
    for item in items:
        end = item.end or _at(last)
        for d in days:
            if item.start < _at(d + timedelta(days=1)) and end > _at(d):
                by_day[d].append(item)
    step = timedelta(days=7) if view == "week" else timedelta(days=31)
    prev_day = (day - step) if view == "week" else (day.replace(day=1) - timedelta(days=1))
    next_day = (day + step) if view == "week" else (day.replace(day=1) + step).replace(day=1)
    return page(
        request, actor, "change_calendar.html", page="changes", view=view, day=day, weeks=[
            days[i:i + 7] for i in range(0, len(days), 7)
        ], by_day=by_day, items=items, prev_day=prev_day, next_day=next_day, today=now.date(),
        conflicted=[i for i in items if i.conflicts],
    )  # fmt: skip


def ics_feed(items: list[Item], *, now: datetime, host: str) -> bytes:
    """The items as an iCalendar (VCALENDAR with one VEVENT each; an open-ended window lasts a day)."""
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//FICTRA Ops//change calendar//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "FICTRA changes and maintenance")
    for item in items:
        ev = Event()
        stamp = int(item.start.timestamp())
        uid = f"change-{item.id}" if item.kind == "change" else f"maintenance-{item.id}-{stamp}"
        ev.add("uid", f"{uid}@{host}")
        ev.add("dtstamp", now)
        ev.add("dtstart", item.start)
        ev.add("dtend", item.end or item.start + timedelta(days=1))
        label = f"Change #{item.id}" if item.kind == "change" else f"Maintenance #{item.id}"
        ev.add("summary", f"{label}: {item.title} [{item.state}]")
        lines = [f"State: {item.state}"] + [f"Conflict ({c['kind']}): {c['text']}" for c in item.conflicts]
        ev.add("description", "\n".join(lines))
        ev.add("categories", ["change" if item.kind == "change" else "maintenance"])
        if item.conflicts:
            ev.add("x-fictra-conflicts", str(len(item.conflicts)))
        cal.add_component(ev)
    data = cal.to_ical()
    return data if isinstance(data, bytes) else bytes(data)


@router.get("/changes/calendar.ics", **guarded("changes.read"))
async def calendar_feed(request: Request, actor: SignedIn) -> Response:
    """Changes and maintenance windows from a month ago to six months ahead."""
    ctx = changes_context(request)
    now = ctx.clock.now()
    async with app_context(request).sessions() as session:
        items = await items_between(session, ctx, now - FEED_BEFORE, now + FEED_AFTER)
    body = ics_feed(items, now=now, host=request.url.hostname or "fictra")
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="fictra-changes.ics"'},
    )
