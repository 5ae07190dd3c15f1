"""The alert page's response part: SLA clocks, escalation level and steps, assignee, snooze — and the
Escalate now / Snooze / Assign actions of the response module, each behind its own permission."""

from __future__ import annotations

from datetime import timedelta

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.api.routes.response import response_context
from fictra.auth.actor import Actor
from fictra.errors import NotFoundError, UsageError
from fictra.response import actions
from fictra.response.queries import ResponseView, response_of

SNOOZES: dict[str, timedelta] = {
    "15m": timedelta(minutes=15),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "24h": timedelta(hours=24),
}
RESPONSE_ACTIONS = {"escalate": "alerts.escalate", "snooze": "alerts.snooze", "assign": "alerts.assign"}


async def response_for(request: Request, session: AsyncSession, alert_id: int) -> ResponseView | None:
    """The alert's SLA clocks and escalation, or None when it has no response record (it fired while
    alert response was not running)."""
    try:
        return await response_of(session, response_context(request), alert_id=alert_id)
    except NotFoundError:
        return None


async def run_response_action(
    request: Request,
    session: AsyncSession,
    *,
    action: str,
    alert_id: int,
    actor: Actor,
    note: str | None,
    duration: str,
    assignee: str,
) -> None:
    """One of :data:`RESPONSE_ACTIONS`, in the caller's transaction (timeline and audit entry included)."""
    ctx = response_context(request)
    if action == "escalate":
        await actions.escalate_now(session, alert_id=alert_id, actor=actor, ctx=ctx, note=note)
    elif action == "snooze":
        if duration not in SNOOZES:
            raise UsageError(f"Snooze duration '{duration}' is not one of {', '.join(SNOOZES)}.")
        await actions.snooze(
            session, alert_id=alert_id, actor=actor, ctx=ctx, duration=SNOOZES[duration], note=note
        )
    elif action == "assign":
        if not assignee.strip():
            raise UsageError("Assign to whom? Enter the user name of the person taking the alert.")
        await actions.assign(
            session, alert_id=alert_id, actor=actor, ctx=ctx, assignee=assignee.strip(), note=note
        )
    else:
        raise UsageError(f"Unknown action '{action}'.")
