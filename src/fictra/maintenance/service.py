"""Maintenance window state changes: create (scheduled or emergency), start early, mark done, record
steps/actions/notes, end, cancel. Keyword-only functions taking the session; each change is audited in
the caller's transaction, and every refusal is raised before anything is written.

:func:`open_window` is the interface the change-management flows call (through a callable the
integrator passes in) to open a window owned by a change (``owner_change_id``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name
from fictra.audit.service import record as audit
from fictra.clock import Clock
from fictra.errors import ConflictError, NotFoundError, UsageError
from fictra.maintenance.config import MaintenanceConfig
from fictra.maintenance.events import log_event
from fictra.maintenance.models import OPEN_STATES, MaintenanceWindow, WindowKind, WindowState
from fictra.maintenance.queries import window_view
from fictra.maintenance.schedule import LOCAL_FORMAT, Spec, zone
from fictra.maintenance.schemas import WindowView
from fictra.maintenance.windows import (
    active_occurrence,
    first_overlap,
    parse_scope,
    scope_key,
    spec_of,
    window_occurrences,
)

__all__ = [
    "ENTRY_KINDS",
    "add_entry",
    "cancel_window",
    "create_window",
    "end_window",
    "mark_done",
    "open_window",
    "start_window",
]

ENTRY_KINDS = ("step", "action", "note")
OVERLAP_HORIZON = timedelta(days=400)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


async def _overlap_check(
    session: AsyncSession, *, candidate: MaintenanceWindow, now: datetime, exclude: int | None = None
) -> None:
    """ConflictError naming the other window when one with the same scope overlaps ``candidate``."""
    others = (
        await session.execute(
            select(MaintenanceWindow).where(
                MaintenanceWindow.scope_key == candidate.scope_key, MaintenanceWindow.state.in_(OPEN_STATES)
            )
        )
    ).scalars()
    lo = min(now, candidate.starts_at)
    hi = max(now, candidate.starts_at) + OVERLAP_HORIZON
    mine = window_occurrences(candidate, lo, hi)
    for other in others:
        if other.id == exclude:
            continue
        hit = first_overlap(mine, window_occurrences(other, lo, hi))
        if hit is not None:
            (start, _), (other_start, other_end) = hit
            until = other_end.isoformat() if other_end else "open"
            raise ConflictError(
                f"Maintenance window overlaps window {other.id} '{other.title}' with the same scope "
                f"({candidate.scope_key}): occurrence at {start.isoformat()} meets {other_start.isoformat()} "
                f"- {until}. Change the time or the scope, or end that window."
            )


async def create_window(
    session: AsyncSession,
    *,
    title: str,
    matchers: Sequence[str],
    owner: str,
    actor: object,
    clock: Clock,
    config: MaintenanceConfig,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    duration: timedelta | None = None,
    timezone: str = "UTC",
    rrule: str | None = None,
    emergency: bool = False,
    description: str = "",
    steps: Sequence[str] = (),
    owner_change_id: int | None = None,
) -> WindowView:
    """A scheduled window (``starts_at`` + ``ends_at`` or ``duration``, optional ``rrule`` in
    ``timezone``; a naive ``starts_at`` is wall time there) or an emergency one (starts now, open until
    ended unless ``ends_at``/``duration`` bound it)."""
    now = clock.now()
    if not title.strip():
        raise UsageError("A maintenance window needs a title.")
    if not owner.strip():
        raise UsageError("A maintenance window needs an owner (the person told of overruns).")
    parsed = parse_scope(matchers)
    tz = zone(timezone)
    if emergency:
        if rrule:
            raise UsageError(f"An emergency window starts now and does not repeat; drop the RRULE '{rrule}'.")
        start = now
    elif starts_at is None:
        raise UsageError("A scheduled maintenance window needs a start (or make it an emergency window).")
    else:
        start = starts_at if starts_at.tzinfo is not None else starts_at.replace(tzinfo=tz)
    if ends_at is not None:
        end = ends_at if ends_at.tzinfo is not None else ends_at.replace(tzinfo=tz)
        if end <= start:
            raise UsageError(
                f"Maintenance window end {end.isoformat()} must be after its start {start.isoformat()}."
            )
        duration = end - start
    if duration is None and not emergency:
        raise UsageError("A scheduled maintenance window needs an end or a duration.")
    if duration is not None and duration <= timedelta(0):
        raise UsageError(f"Maintenance window duration {duration} must be positive.")
    if duration is not None and duration > config.max_duration:
        raise UsageError(
            f"Maintenance window duration {duration} is longer than max_duration {config.max_duration} "
            "(maintenance.yaml)."
        )
    local = start.astimezone(tz).replace(tzinfo=None, microsecond=0)
    spec = Spec(local, tz, duration, rrule.strip() if rrule else None)
    spec.validate()
    first = next(spec.starts(), None)
    if first is None:  # pragma: no cover - validate() refuses rules without occurrences
        raise UsageError(f"RRULE '{rrule}' has no occurrence.")
    if not emergency and rrule is None and first + (duration or timedelta(0)) <= now:
        raise UsageError(
            f"Maintenance window end {(first + (duration or timedelta(0))).isoformat()} is in the past."
        )
    row = MaintenanceWindow(
        title=title.strip()[:300],
        description=description,
        kind=(WindowKind.EMERGENCY if emergency else WindowKind.SCHEDULED).value,
        state=(WindowState.ACTIVE if emergency else WindowState.SCHEDULED).value,
        timezone=timezone,
        local_start=local.strftime(LOCAL_FORMAT),
        starts_at=first,
        duration_seconds=None if duration is None else int(duration.total_seconds()),
        rrule=spec.rrule,
        matchers=[str(m) for m in parsed],
        scope_key=scope_key(parsed)[:2000],
        owner=owner.strip()[:200],
        owner_change_id=owner_change_id,
        steps=[s for s in steps if s.strip()],
        created_by=actor_name(actor),
        created_at=now,
        updated_at=now,
        ended_at=None,
    )
    await _overlap_check(session, candidate=row, now=now)
    session.add(row)
    await session.flush()
    view = window_view(row, now)
    what = "Emergency window opened" if emergency else "Window scheduled"
    await log_event(session, window_id=row.id, kind="created", actor=row.created_by, text=what, clock=clock)
    await audit(
        session,
        actor=actor,
        action="maintenance.create",
        target=f"maintenance:{row.id}",
        after=view.model_dump(mode="json"),
        clock=clock,
    )
    return view


open_window = create_window


async def _load(session: AsyncSession, window_id: int) -> MaintenanceWindow:
    row = await session.get(MaintenanceWindow, window_id)
    if row is None:
        raise NotFoundError(f"No maintenance window with id {window_id}.")
    return row


async def _change(
    session: AsyncSession,
    *,
    row: MaintenanceWindow,
    action: str,
    actor: object,
    clock: Clock,
    before: WindowView,
) -> WindowView:
    row.updated_at = clock.now()
    await session.flush()
    after = window_view(row, clock.now())
    await audit(
        session,
        actor=actor,
        action=f"maintenance.{action}",
        target=f"maintenance:{row.id}",
        before=before.model_dump(mode="json"),
        after=after.model_dump(mode="json"),
        clock=clock,
    )
    return after


async def start_window(session: AsyncSession, *, window_id: int, actor: object, clock: Clock) -> WindowView:
    """Open a one-off scheduled window now (early); it keeps its planned end."""
    row = await _load(session, window_id)
    now = clock.now()
    if row.state != WindowState.SCHEDULED.value or row.kind != WindowKind.SCHEDULED.value:
        raise ConflictError(
            f"Maintenance window {window_id} is {row.state} ({row.kind}); only a scheduled one starts."
        )
    if row.rrule is not None:
        raise ConflictError(
            f"Maintenance window {window_id} repeats ({row.rrule}); its occurrences start by themselves."
        )
    end = row.starts_at + timedelta(seconds=row.duration_seconds or 0)
    if end <= now:
        raise ConflictError(f"Maintenance window {window_id} ended at {end.isoformat()}.")
    before = window_view(row, now)
    if row.starts_at > now:
        tz = zone(row.timezone)
        row.local_start = now.astimezone(tz).replace(tzinfo=None, microsecond=0).strftime(LOCAL_FORMAT)
        row.starts_at = spec_of(row).to_utc(now.astimezone(tz).replace(tzinfo=None, microsecond=0))
        row.duration_seconds = int((end - row.starts_at).total_seconds())
        await _overlap_check(session, candidate=row, now=now, exclude=row.id)
    row.state = WindowState.ACTIVE.value
    await log_event(
        session, window_id=row.id, kind="started", actor=actor_name(actor), text="Window started", clock=clock
    )
    return await _change(session, row=row, action="start", actor=actor, clock=clock, before=before)


async def end_window(
    session: AsyncSession, *, window_id: int, actor: object, clock: Clock, note: str = ""
) -> WindowView:
    """Close the window now (a recurring one has no further occurrence); its holds are released by the
    next maintenance job run."""
    row = await _load(session, window_id)
    now = clock.now()
    if row.state not in OPEN_STATES:
        raise ConflictError(f"Maintenance window {window_id} is already {row.state}.")
    if row.starts_at > now:
        raise ConflictError(
            f"Maintenance window {window_id} has not started (starts {row.starts_at.isoformat()}); "
            "cancel it instead."
        )
    before = window_view(row, now)
    row.ended_at = now
    row.state = WindowState.ENDED.value
    await log_event(
        session,
        window_id=row.id,
        kind="ended",
        actor=actor_name(actor),
        text=note or "Window ended",
        clock=clock,
    )
    return await _change(session, row=row, action="end", actor=actor, clock=clock, before=before)


async def cancel_window(
    session: AsyncSession, *, window_id: int, actor: object, clock: Clock, reason: str
) -> WindowView:
    row = await _load(session, window_id)
    now = clock.now()
    if row.state not in OPEN_STATES:
        raise ConflictError(f"Maintenance window {window_id} is already {row.state}.")
    if not reason.strip():
        raise UsageError("Canceling a maintenance window needs a reason.")
    before = window_view(row, now)
    if row.starts_at <= now:
        row.ended_at = now
    row.state = WindowState.CANCELED.value
    await log_event(
        session, window_id=row.id, kind="canceled", actor=actor_name(actor), text=reason, clock=clock
    )
    return await _change(session, row=row, action="cancel", actor=actor, clock=clock, before=before)


async def mark_done(
    session: AsyncSession, *, window_id: int, actor: object, clock: Clock, note: str = ""
) -> WindowView:
    """The implementation of the current occurrence is done: no overrun reminder for it."""
    row = await _load(session, window_id)
    now = clock.now()
    occ = active_occurrence(row, now)
    if occ is None:
        raise ConflictError(
            f"Maintenance window {window_id} is not open now; only an open window is marked done."
        )
    key = f"done:{occ[0].timestamp():.0f}"
    before = window_view(row, now)
    from fictra.maintenance.events import has_event

    if await has_event(session, window_id=row.id, key=key):
        raise ConflictError(f"Maintenance window {window_id} is already marked done for {_iso(occ[0])}.")
    await log_event(
        session,
        window_id=row.id,
        kind="done",
        key=key,
        actor=actor_name(actor),
        text=note or "Implementation done",
        clock=clock,
        details={"occurrence": _iso(occ[0])},
    )
    return await _change(session, row=row, action="done", actor=actor, clock=clock, before=before)


async def add_entry(
    session: AsyncSession, *, window_id: int, kind: str, text: str, actor: object, clock: Clock
) -> int:
    """A step carried out, an action taken or a note, for the Maintenance Log; returns the event id."""
    if kind not in ENTRY_KINDS:
        raise UsageError(f"Maintenance log entry kind '{kind}' is not one of {', '.join(ENTRY_KINDS)}.")
    if not text.strip():
        raise UsageError(f"A maintenance {kind} needs a text.")
    row = await _load(session, window_id)
    event = await log_event(
        session, window_id=row.id, kind=kind, actor=actor_name(actor), text=text, clock=clock
    )
    await audit(
        session,
        actor=actor,
        action=f"maintenance.{kind}",
        target=f"maintenance:{row.id}",
        after={"event_id": event.id, "text": text[:4000]},
        clock=clock,
    )
    return event.id
