"""Periodic maintenance work on the injected clock, one transaction per run (:func:`tick_once`):

1. hold: every firing alert in the scope of an open window gets its hold row (:func:`sync_holds`);
2. release: holds of occurrences that are over are released or dropped (:func:`release_due`);
3. notices: stakeholders get the "Status Updates" notice ``lead_time`` before an occurrence, at its
   start and at its end (each once: a keyed window event);
4. overrun: an occurrence that ended without its implementation marked done alerts the owner, once;
5. forgotten: an emergency window still open after ``forgotten_after`` reminds the owner and the
   recipients, once per period;
6. a one-off window whose occurrence is over (or a rule with no occurrence left) becomes ``ended``.

:func:`maintenance_jobs` returns ``maintenance.tick`` for the platform's scheduler.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import record as audit
from fictra.clock import Clock
from fictra.jobs import Job, JobContext
from fictra.maintenance.config import MaintenanceConfig
from fictra.maintenance.events import has_event, log_event
from fictra.maintenance.holding import release_due, sync_holds
from fictra.maintenance.models import (
    OPEN_STATES,
    HoldOutcome,
    MaintenanceHold,
    MaintenanceWindow,
    WindowKind,
    WindowState,
)
from fictra.maintenance.queries import window_view
from fictra.maintenance.windows import window_occurrences
from fictra.notify.message import Message
from fictra.response.context import ResponseContext

__all__ = ["SYSTEM", "MaintenanceContext", "TickResult", "maintenance_jobs", "tick_once"]

log = logging.getLogger(__name__)
SYSTEM = "system:maintenance"
LOOKBACK = timedelta(days=1)  # occurrences that ended longer ago get no end notice any more
_PHASES = {
    "before": ("Upcoming maintenance", "is scheduled"),
    "start": ("Maintenance started", "has started"),
    "end": ("Maintenance completed", "has ended"),
    "forgotten": ("Maintenance window still open", "is still open: end it when the work is done"),
    "overrun": ("Maintenance overran", "reached its planned end without its implementation marked done"),
}
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # noqa: S701 - plain-text messages; HTML channels escape on their side
)
_env.filters["when"] = lambda v: v.strftime("%Y-%m-%d %H:%M UTC") if v is not None else "-"


@dataclass
class MaintenanceContext:
    """What the maintenance jobs need, built by the integrator: the section, the clock and the
    response context (its notify path, routes and on-call people)."""

    config: MaintenanceConfig
    clock: Clock
    response: ResponseContext
    console_url: str = "http://127.0.0.1:8000"

    def link(self, window_id: int) -> str:
        return f"{self.console_url.rstrip('/')}/maintenance/{window_id}"


@dataclass
class TickResult:
    held: list[int] = field(default_factory=list)
    released: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # "<window>:<key>"
    reminders: list[str] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)


def render_status(
    ctx: MaintenanceContext,
    row: MaintenanceWindow,
    *,
    phase: str,
    start: datetime,
    end: datetime | None,
    **extra: Any,
) -> Message:
    title, text = _PHASES[phase]
    body = _env.get_template("status.txt.j2").render(
        window=row,
        phase_title=title,
        phase_text=text,
        start=start,
        end=end,
        link=ctx.link(row.id),
        held=extra.get("held", 0),
        released=extra.get("released", 0),
    )
    subject, _, rest = body.strip().partition("\n")
    return Message(
        subject=subject[:500],
        body=rest.strip() + "\n",
        severity="P2" if phase in ("overrun", "forgotten") else "P3",
        link=ctx.link(row.id),
        fields={"maintenance_window": str(row.id), "phase": phase},
        status="firing",
        group_key=f"maintenance-{row.id}",
    )


async def _once(
    session: AsyncSession,
    ctx: MaintenanceContext,
    row: MaintenanceWindow,
    *,
    key: str,
    phase: str,
    start: datetime,
    end: datetime | None,
    owner: bool = False,
    counts: dict[str, int] | None = None,
) -> bool:
    """Send the ``phase`` notice for this window once (``key``); False when it was sent already."""
    if await has_event(session, window_id=row.id, key=key):
        return False
    message = render_status(ctx, row, phase=phase, start=start, end=end, **(counts or {}))
    receivers = list(ctx.config.recipients) if not owner or phase == "forgotten" else []
    sent: list[int] = []
    if owner:
        if row.owner in ctx.response.config.oncall.people:
            sent += await ctx.response.notify_person(
                session, person=row.owner, message=message, key=f"maintenance:{row.id}:{key}:owner"
            )
        elif ctx.config.owner_receiver not in receivers:
            receivers.append(ctx.config.owner_receiver)
    for receiver in receivers:
        sent += await ctx.response.notify(
            session, receiver=receiver, message=message, key=f"maintenance:{row.id}:{key}:{receiver}"
        )
    await log_event(
        session,
        window_id=row.id,
        kind="reminder" if owner else "notice",
        key=key,
        actor=SYSTEM,
        text=message.subject,
        clock=ctx.clock,
        details={"phase": phase, "notifications": sent, "receivers": receivers, "owner": owner},
    )
    await audit(
        session,
        actor=SYSTEM,
        action=f"maintenance.{phase}",
        target=f"maintenance:{row.id}",
        after={"key": key, "notifications": sent},
        clock=ctx.clock,
    )
    return True


async def _hold_counts(session: AsyncSession, window_id: int, occurrence: datetime) -> dict[str, int]:
    rows = await session.execute(
        select(MaintenanceHold.outcome).where(
            MaintenanceHold.window_id == window_id, MaintenanceHold.occurrence == occurrence
        )
    )
    outcomes = list(rows.scalars())
    return {"held": len(outcomes), "released": outcomes.count(HoldOutcome.RELEASED.value)}


async def _window_tick(
    session: AsyncSession, ctx: MaintenanceContext, row: MaintenanceWindow, result: TickResult
) -> None:
    now = ctx.clock.now()
    lead = ctx.config.lead_time
    for start, end in window_occurrences(row, now - LOOKBACK, now + lead):
        stamp = f"{start.timestamp():.0f}"
        if start > now:
            if row.kind == WindowKind.SCHEDULED.value and await _once(
                session, ctx, row, key=f"before:{stamp}", phase="before", start=start, end=end
            ):
                result.notices.append(f"{row.id}:before:{stamp}")
            continue
        if await _once(session, ctx, row, key=f"start:{stamp}", phase="start", start=start, end=end):
            result.notices.append(f"{row.id}:start:{stamp}")
        if end is not None and end <= now:
            counts = await _hold_counts(session, row.id, start)
            if await _once(
                session, ctx, row, key=f"end:{stamp}", phase="end", start=start, end=end, counts=counts
            ):
                result.notices.append(f"{row.id}:end:{stamp}")
            if (
                row.state in OPEN_STATES
                and not await has_event(session, window_id=row.id, key=f"done:{stamp}")
                and await _once(
                    session,
                    ctx,
                    row,
                    key=f"overrun:{stamp}",
                    phase="overrun",
                    start=start,
                    end=end,
                    owner=True,
                )
            ):
                result.reminders.append(f"{row.id}:overrun:{stamp}")
        if row.kind == WindowKind.EMERGENCY.value and end is None:
            periods = int((now - start) / ctx.config.forgotten_after)
            if periods >= 1 and await _once(
                session,
                ctx,
                row,
                key=f"forgotten:{periods}",
                phase="forgotten",
                start=start,
                end=None,
                owner=True,
            ):
                result.reminders.append(f"{row.id}:forgotten:{periods}")
    if (
        row.state in OPEN_STATES
        and row.duration_seconds is not None
        and window_view(row, now).next_start is None
    ):
        last = window_occurrences(row, now - LOOKBACK, now + timedelta(microseconds=1))
        if not any(e is None or e > now for _, e in last):
            before = row.state
            row.state = WindowState.ENDED.value
            row.ended_at = row.ended_at or now
            row.updated_at = now
            await log_event(
                session, window_id=row.id, kind="ended", actor=SYSTEM, text="Window over", clock=ctx.clock
            )
            await audit(
                session,
                actor=SYSTEM,
                action="maintenance.over",
                target=f"maintenance:{row.id}",
                before={"state": before},
                after={"state": row.state},
                clock=ctx.clock,
            )
            result.ended.append(row.id)


async def tick_once(session: AsyncSession, *, ctx: MaintenanceContext) -> TickResult:
    now = ctx.clock.now()
    result = TickResult()
    result.held = [h.alert_id for h in await sync_holds(session, now=now)]
    result.released, result.dropped = await release_due(session, ctx=ctx.response, now=now)
    recent = now - LOOKBACK
    rows = (
        (
            await session.execute(
                select(MaintenanceWindow)
                .where(
                    (MaintenanceWindow.state.in_(OPEN_STATES))
                    | (MaintenanceWindow.ended_at.is_not(None) & (MaintenanceWindow.ended_at > recent))
                )
                .order_by(MaintenanceWindow.id)
            )
        )
        .scalars()
        .all()
    )
    for row in rows:
        if row.state != WindowState.CANCELED.value:
            await _window_tick(session, ctx, row, result)
    await session.flush()
    return result


def maintenance_jobs(ctx: MaintenanceContext) -> list[Job]:
    """``maintenance.tick`` every ``tick_interval``: holds, releases, notices and reminders."""

    async def tick(job: JobContext) -> None:
        async with job.sessions.begin() as session:
            result = await tick_once(session, ctx=ctx)
        if result.released or result.dropped or result.reminders:
            log.info(
                "maintenance: released %s, dropped %s, reminders %s",
                result.released,
                result.dropped,
                result.reminders,
            )

    return [Job(name="maintenance.tick", every=ctx.config.tick_interval, run=tick)]
