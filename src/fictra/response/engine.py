"""Escalation state in the database: start when an alert fires, move up a level, stop.

One ``alert_response`` row per alert carries the SLA deadlines and the escalation position; each move
writes an ``escalation_steps`` row (who was notified when) and one outbox notification per person, all
in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert
from fictra.notify.message import Message
from fictra.response.context import ResponseContext
from fictra.response.escalation import next_step, select_policy
from fictra.response.models import AlertResponse, EscalationStep
from fictra.response.oncall import Directory

DEFAULT_TEAM = "operations"


async def start(
    session: AsyncSession, ctx: ResponseContext, *, alert: Alert, now: datetime, muted_by: str | None
) -> AlertResponse:
    """(Re)start the clocks and the escalation of an alert that (re)fired."""
    row = await session.get(AlertResponse, alert.id)
    policy = select_policy(ctx.config.escalation.policies, severity=alert.severity, at=now)
    values: dict[str, Any] = {
        "active": True,
        "severity": alert.severity,
        "team": (alert.labels or {}).get("team", DEFAULT_TEAM),
        "policy": policy.name if policy else None,
        "level": -1,
        "loop": 0,
        "fired_at": alert.fired_at,
        "ack_deadline": alert.ack_deadline,
        "resolve_deadline": alert.fired_at + ctx.resolve_deadline(alert.severity),
        "acknowledged_at": None,
        "ack_breached": False,
        "resolve_breached": False,
        "next_escalation_at": now if policy else None,
        "snoozed_until": None,
        "muted_by": muted_by,
        "updated_at": now,
    }
    if row is None:
        row = AlertResponse(alert_id=alert.id, assignee=None, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
    await session.flush()
    return row


def stop(row: AlertResponse, *, now: datetime) -> None:
    row.active = False
    row.next_escalation_at = None
    row.updated_at = now


def message_for(ctx: ResponseContext, alert: Alert, *, level_name: str, reason: str) -> Message:
    return Message(
        subject=f"[{alert.severity}] {alert.summary}"[:500],
        body=f"Escalation level '{level_name}' ({reason}). Acknowledge at {ctx.link(alert.id)}",
        severity=alert.severity,
        alert_id=alert.id,
        link=ctx.link(alert.id),
        fields={"level": level_name, "reason": reason, "monitor": alert.monitor, "network": alert.network},
        status="firing",
        deadline=alert.ack_deadline,
        evidence=dict(alert.evidence or {}),
        group_key=f"alert-{alert.id}",
    )


async def advance(
    session: AsyncSession,
    ctx: ResponseContext,
    *,
    row: AlertResponse,
    alert: Alert,
    now: datetime,
    reason: str,
    directory: Directory,
    keep_going: bool = True,
) -> EscalationStep | None:
    """Notify the next level up (skipping levels with nobody reachable). ``keep_going`` False leaves no
    next move scheduled (an acknowledged alert escalated for a resolve breach). None when the path is
    exhausted (or there is no policy)."""
    policy = next((p for p in ctx.config.escalation.policies if p.name == row.policy), None)
    row.updated_at = now
    if policy is None:
        row.next_escalation_at = None
        return None
    step = next_step(
        policy,
        level=row.level,
        loop=row.loop,
        severity=row.severity,
        at=now,
        directory=directory,
        default_wait=ctx.ack_wait(row.severity),
    )
    if step.level is None:
        row.next_escalation_at = None
        if step.skipped:
            session.add(
                EscalationStep(
                    alert_id=row.alert_id,
                    at=now,
                    level=-1,
                    level_name="(none reachable)",
                    reason=reason,
                    people=[],
                    skipped=step.skipped,
                )
            )
        return None
    record = EscalationStep(
        alert_id=row.alert_id,
        at=now,
        level=step.level,
        level_name=step.level_name,
        reason=reason,
        people=step.people,
        skipped=step.skipped,
    )
    session.add(record)
    await session.flush()
    row.level, row.loop = step.level, step.loop
    row.next_escalation_at = step.next_at if keep_going else None
    message = message_for(ctx, alert, level_name=step.level_name, reason=reason)
    for person in step.people:
        await ctx.notify_person(
            session,
            person=person,
            message=message.model_copy(update={"fields": {**message.fields, "person": person}}),
            key=f"escalation:{record.id}:{person}",
        )
    return record
