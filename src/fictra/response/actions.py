"""Acting on alerts beyond acknowledge/resolve/note: escalate now, snooze, assign — and acknowledge and
resolve wrappers that also stop the escalation at once.

Each action checks the alert's state (ConflictError when impossible), writes the change, puts an entry
on the alert's timeline and appends an audit entry, all in the caller's transaction (like
:mod:`fictra.alerting.actions`, which this builds on).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting import actions as base
from fictra.alerting.models import Alert, AlertEvent, AlertStatus, Confirmation
from fictra.audit.service import record as audit
from fictra.auth.actor import Actor
from fictra.auth.models import User
from fictra.errors import ConflictError, NotFoundError, UsageError
from fictra.response import engine
from fictra.response.context import ResponseContext
from fictra.response.models import AlertResponse

MAX_SNOOZE = timedelta(days=7)


async def _firing(session: AsyncSession, alert_id: int, verb: str) -> Alert:
    alert = await session.get(Alert, alert_id, populate_existing=True)
    if alert is None:
        raise NotFoundError(f"No alert with id {alert_id}. List alerts with `fictra alerts list`.")
    if alert.status != AlertStatus.FIRING.value or alert.confirmation == Confirmation.RETRACTED.value:
        state = "retracted" if alert.confirmation == Confirmation.RETRACTED.value else alert.status
        raise ConflictError(f"Alert {alert_id} is {state}; only a firing alert can be {verb}.")
    return alert


async def _row(session: AsyncSession, ctx: ResponseContext, alert: Alert) -> AlertResponse:
    row = await session.get(AlertResponse, alert.id, populate_existing=True)
    if row is None:  # fired before alert response was running: start its clocks now
        row = await engine.start(session, ctx, alert=alert, now=ctx.clock.now(), muted_by=None)
        row.next_escalation_at = None
    return row


def _state(row: AlertResponse) -> dict[str, Any]:
    def iso(v: datetime | None) -> str | None:
        return v.isoformat() if v else None

    return {
        "level": row.level,
        "next_escalation_at": iso(row.next_escalation_at),
        "snoozed_until": iso(row.snoozed_until),
        "assignee": row.assignee,
    }


async def _timeline(
    session: AsyncSession, *, alert_id: int, kind: str, at: datetime, details: dict[str, Any]
) -> None:
    await session.execute(
        insert(AlertEvent), [{"alert_id": alert_id, "kind": kind, "at": at, "details": details}]
    )


async def acknowledge(
    session: AsyncSession, *, alert_id: int, actor: Actor, ctx: ResponseContext, note: str | None = None
) -> Alert:
    alert = await base.acknowledge(session, alert_id=alert_id, actor=actor, clock=ctx.clock, note=note)
    await _update_row(
        session,
        alert_id,
        acknowledged_at=alert.acknowledged_at,
        next_escalation_at=None,
        updated_at=ctx.clock.now(),
    )
    return alert


async def resolve(
    session: AsyncSession, *, alert_id: int, actor: Actor, ctx: ResponseContext, note: str | None = None
) -> Alert:
    alert = await base.resolve(session, alert_id=alert_id, actor=actor, clock=ctx.clock, note=note)
    await _update_row(session, alert_id, active=False, next_escalation_at=None, updated_at=ctx.clock.now())
    return alert


async def _update_row(session: AsyncSession, alert_id: int, **values: Any) -> None:
    """One UPDATE of the response row (none when the alert never had one), no read first."""
    await session.execute(
        update(AlertResponse)
        .where(AlertResponse.alert_id == alert_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def escalate_now(
    session: AsyncSession, *, alert_id: int, actor: Actor, ctx: ResponseContext, note: str | None = None
) -> AlertResponse:
    """Notify the next level up at once (the level's wait starts again from now)."""
    alert = await _firing(session, alert_id, "escalated")
    row = await _row(session, ctx, alert)
    before = _state(row)
    now = ctx.clock.now()
    directory = await ctx.directory(session, now=now)
    step = await engine.advance(
        session,
        ctx,
        row=row,
        alert=alert,
        now=now,
        reason="escalate_now",
        directory=directory,
        keep_going=alert.acknowledged_at is None,
    )
    if step is None:
        raise ConflictError(
            f"Alert {alert_id} has no higher escalation level to reach "
            f"(policy '{row.policy}', level {row.level})."
        )
    details = {"by": actor.username, "level": step.level_name, "people": step.people, "note": note}
    await _timeline(session, alert_id=alert_id, kind="escalated", at=now, details=details)
    await audit(
        session,
        actor=actor,
        action="alert.escalate",
        target=f"alert:{alert_id}",
        before=before,
        after=_state(row),
        reason=note,
        clock=ctx.clock,
    )
    return row


async def snooze(
    session: AsyncSession,
    *,
    alert_id: int,
    actor: Actor,
    ctx: ResponseContext,
    duration: timedelta,
    note: str | None = None,
) -> AlertResponse:
    """Hold the escalation for ``duration`` (at most 7 days). SLA clocks keep running."""
    if duration <= timedelta(0) or duration > MAX_SNOOZE:
        raise UsageError(f"Snooze duration {duration} must be more than 0 and at most 7 days.")
    alert = await _firing(session, alert_id, "snoozed")
    row = await _row(session, ctx, alert)
    before = _state(row)
    now = ctx.clock.now()
    row.snoozed_until = now + duration
    if row.next_escalation_at is not None and row.next_escalation_at < row.snoozed_until:
        row.next_escalation_at = row.snoozed_until
    row.updated_at = now
    details = {"by": actor.username, "until": row.snoozed_until.isoformat(), "note": note}
    await _timeline(session, alert_id=alert_id, kind="snoozed", at=now, details=details)
    await audit(
        session,
        actor=actor,
        action="alert.snooze",
        target=f"alert:{alert_id}",
        before=before,
        after=_state(row),
        reason=note,
        clock=ctx.clock,
    )
    return row


async def assign(
    session: AsyncSession,
    *,
    alert_id: int,
    actor: Actor,
    ctx: ResponseContext,
    assignee: str,
    note: str | None = None,
) -> AlertResponse:
    """Assign the alert to a person of ``oncall.yaml`` or a user; they are notified."""
    name = assignee.strip()
    known = name in ctx.config.oncall.people or (
        (await session.execute(select(User.id).where(User.username == name))).first() is not None
    )
    if not known:
        raise UsageError(f"Assignee '{assignee}' is neither a person in oncall.yaml nor a user.")
    alert = await _firing(session, alert_id, "assigned")
    row = await _row(session, ctx, alert)
    if row.assignee == name:
        raise ConflictError(f"Alert {alert_id} is already assigned to {name}.")
    before = _state(row)
    now = ctx.clock.now()
    row.assignee = name
    row.updated_at = now
    await _timeline(
        session, alert_id=alert_id, kind="assigned", at=now, details={"by": actor.username, "to": name}
    )
    message = engine.message_for(ctx, alert, level_name="assigned", reason=f"assigned by {actor.username}")
    await ctx.notify_person(
        session,
        person=name,
        message=message.model_copy(update={"fields": {**message.fields, "person": name}}),
        key=f"assign:{alert_id}:{name}:{now.timestamp()}",
    )
    await audit(
        session,
        actor=actor,
        action="alert.assign",
        target=f"alert:{alert_id}",
        before=before,
        after=_state(row),
        reason=note,
        clock=ctx.clock,
    )
    return row
