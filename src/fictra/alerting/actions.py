"""What people do to alerts: acknowledge, resolve by hand, add a note.

Each action checks the alert's state (:class:`~fictra.errors.ConflictError` when it is impossible), writes
the change, puts an entry on the alert's timeline (``alert_events``) and appends an audit entry — all in
the caller's transaction, so the three commit together or not at all. State changes are conditional
UPDATEs (``... WHERE status = 'firing' AND acknowledged_at IS NULL``), so two people acknowledging at
once cannot both win, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert, AlertEvent, AlertStatus, Confirmation
from fictra.clock import Clock
from fictra.errors import ConflictError, NotFoundError, UsageError

if TYPE_CHECKING:
    from fictra.auth.actor import Actor

NOTE_MAX = 4000
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
NOTE = "note"


def _text(value: str | None, *, what: str, required: bool = False) -> str | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise UsageError(f"The {what} is empty; write what you want on the alert's timeline.")
        return None
    if len(text) > NOTE_MAX:
        raise UsageError(f"The {what} has {len(text)} characters; at most {NOTE_MAX} are allowed.")
    return text


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _state(alert: Alert) -> dict[str, Any]:
    return {
        "status": alert.status,
        "confirmation": alert.confirmation,
        "severity": alert.severity,
        "acknowledged_at": _iso(alert.acknowledged_at),
        "acknowledged_by": alert.acknowledged_by,
        "resolved_at": _iso(alert.resolved_at),
    }


async def _load(session: AsyncSession, alert_id: int) -> Alert:
    alert = await session.get(Alert, alert_id, populate_existing=True)
    if alert is None:
        raise NotFoundError(f"No alert with id {alert_id}. List alerts with GET /api/v1/alerts.")
    return alert


async def _timeline(
    session: AsyncSession, *, alert_id: int, kind: str, at: datetime, details: dict[str, Any]
) -> None:
    await session.execute(
        insert(AlertEvent), [{"alert_id": alert_id, "kind": kind, "at": at, "details": details}]
    )


async def _audit(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    alert_id: int,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    reason: str | None,
    clock: Clock,
) -> None:
    from fictra.audit.service import record

    await record(
        session,
        actor=actor,
        action=action,
        target=f"alert:{alert_id}",
        before=before,
        after=after,
        reason=reason,
        clock=clock,
    )


def _why_not_firing(alert: Alert, verb: str) -> str:
    if alert.status == AlertStatus.RESOLVED.value:
        when = f" at {alert.resolved_at.isoformat()}" if alert.resolved_at else ""
        return f"Alert {alert.id} was resolved{when}; only a firing alert can be {verb}."
    return f"Alert {alert.id} was retracted (its block left the chain); only a firing alert can be {verb}."


async def acknowledge(
    session: AsyncSession, *, alert_id: int, actor: Actor, clock: Clock, note: str | None = None
) -> Alert:
    """Acknowledge a firing alert (stops its acknowledgement clock). ConflictError when it is resolved,
    retracted or already acknowledged."""
    text = _text(note, what="acknowledgement note")
    alert = await _load(session, alert_id)
    before = _state(alert)
    now = clock.now()
    result = await session.execute(
        update(Alert)
        .where(
            Alert.id == alert_id,
            Alert.status == AlertStatus.FIRING.value,
            Alert.confirmation != Confirmation.RETRACTED.value,
            Alert.acknowledged_at.is_(None),
        )
        .values(acknowledged_at=now, acknowledged_by=actor.username)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        alert = await _load(session, alert_id)
        if alert.status == AlertStatus.FIRING.value and alert.confirmation != Confirmation.RETRACTED.value:
            at = alert.acknowledged_at.isoformat() if alert.acknowledged_at else "?"
            raise ConflictError(
                f"Alert {alert_id} was already acknowledged by {alert.acknowledged_by} at {at}."
            )
        raise ConflictError(_why_not_firing(alert, "acknowledged"))
    alert = await _load(session, alert_id)
    details: dict[str, Any] = {"by": actor.username, **({"note": text} if text else {})}
    await _timeline(session, alert_id=alert_id, kind=ACKNOWLEDGED, at=now, details=details)
    await _audit(
        session,
        actor=actor,
        action="alert.acknowledge",
        alert_id=alert_id,
        before=before,
        after=_state(alert),
        reason=text,
        clock=clock,
    )
    return alert


async def resolve(
    session: AsyncSession, *, alert_id: int, actor: Actor, clock: Clock, note: str | None = None
) -> Alert:
    """Resolve a firing alert by hand (a monitor that sees the condition again fires it again).
    ConflictError when it is already resolved or retracted."""
    text = _text(note, what="resolution note")
    alert = await _load(session, alert_id)
    before = _state(alert)
    now = clock.now()
    result = await session.execute(
        update(Alert)
        .where(
            Alert.id == alert_id,
            Alert.status == AlertStatus.FIRING.value,
            Alert.confirmation != Confirmation.RETRACTED.value,
        )
        .values(status=AlertStatus.RESOLVED.value, resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise ConflictError(_why_not_firing(await _load(session, alert_id), "resolved"))
    alert = await _load(session, alert_id)
    details: dict[str, Any] = {"by": actor.username, "manual": True, **({"note": text} if text else {})}
    await _timeline(session, alert_id=alert_id, kind=RESOLVED, at=now, details=details)
    await _audit(
        session,
        actor=actor,
        action="alert.resolve",
        alert_id=alert_id,
        before=before,
        after=_state(alert),
        reason=text,
        clock=clock,
    )
    return alert


async def add_note(session: AsyncSession, *, alert_id: int, actor: Actor, clock: Clock, text: str) -> Alert:
    """Add a note to the alert's timeline (any state; the alert itself does not change)."""
    body = _text(text, what="note", required=True)
    alert = await _load(session, alert_id)
    now = clock.now()
    await _timeline(
        session, alert_id=alert_id, kind=NOTE, at=now, details={"by": actor.username, "text": body}
    )
    await _audit(
        session,
        actor=actor,
        action="alert.note",
        alert_id=alert_id,
        before=None,
        after={"note": body},
        reason=None,
        clock=clock,
    )
    return alert
