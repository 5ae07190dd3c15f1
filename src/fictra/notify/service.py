"""The outbox's write side: enqueue (in the caller's transaction), list, and retry by hand.

:func:`enqueue` inserts one row per notification; its idempotency key is unique, so enqueueing the same
notification twice (a replayed alert change, a restarted escalation) is a no-op that returns None.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import record
from fictra.auth.actor import Actor
from fictra.clock import Clock, SystemClock
from fictra.errors import ConflictError, NotFoundError, UsageError
from fictra.notify.message import Message
from fictra.notify.models import DeliveryAttempt, Notification, NotificationStatus

__all__ = ["Message", "enqueue", "get_notification", "list_attempts", "list_notifications", "retry"]

_MAX_KEY = 255


async def enqueue(
    session: AsyncSession,
    *,
    receiver: str,
    channel: str,
    message: Message,
    idempotency_key: str,
    clock: Clock | None = None,
    not_before: datetime | None = None,
) -> int | None:
    """Add a notification to the outbox in the caller's transaction (it is sent once that commits).

    Returns the new row's id, or None when ``idempotency_key`` was enqueued before. ``clock`` stamps the
    row (default: system time); ``not_before`` delays the first attempt.
    """
    if not idempotency_key or len(idempotency_key) > _MAX_KEY:
        raise UsageError(
            f"Notification idempotency_key '{idempotency_key[:40]}' must be 1-{_MAX_KEY} characters long."
        )
    if not receiver or not channel:
        raise UsageError(f"Notification needs a receiver and a channel (got '{receiver}', '{channel}').")
    now = (clock or SystemClock()).now()
    values: dict[str, Any] = {
        "idempotency_key": idempotency_key,
        "receiver": receiver,
        "channel": channel,
        "alert_id": message.alert_id,
        "message": message.model_dump(mode="json"),
        "status": NotificationStatus.PENDING.value,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        insert(Notification)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(Notification.id)
    )
    row = (await session.execute(stmt)).first()
    return None if row is None else int(row[0])


async def get_notification(session: AsyncSession, *, notification_id: int) -> Notification:
    found = await session.get(Notification, notification_id)
    if found is None:
        raise NotFoundError(f"Notification {notification_id} does not exist.")
    return found


async def list_notifications(
    session: AsyncSession,
    *,
    status: str | None = None,
    alert_id: int | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> Sequence[Notification]:
    """Newest first; ``status`` filters (e.g. "dead" for the dead letters)."""
    if status is not None and status not in {s.value for s in NotificationStatus}:
        allowed = ", ".join(s.value for s in NotificationStatus)
        raise UsageError(f"Notification status '{status}' is not one of: {allowed}.")
    stmt = select(Notification).order_by(Notification.id.desc()).limit(max(1, min(limit, 1000)))
    if status is not None:
        stmt = stmt.where(Notification.status == status)
    if alert_id is not None:
        stmt = stmt.where(Notification.alert_id == alert_id)
    if before_id is not None:
        stmt = stmt.where(Notification.id < before_id)
    return (await session.scalars(stmt)).all()


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Notification.status, func.count()).group_by(Notification.status))
    return {str(status): int(n) for status, n in rows.all()}


async def list_attempts(session: AsyncSession, *, notification_id: int) -> Sequence[DeliveryAttempt]:
    stmt = (
        select(DeliveryAttempt)
        .where(DeliveryAttempt.notification_id == notification_id)
        .order_by(DeliveryAttempt.id)
    )
    return (await session.scalars(stmt)).all()


async def retry(
    session: AsyncSession,
    *,
    notification_id: int,
    actor: Actor | str,
    clock: Clock,
    reason: str | None = None,
) -> Notification:
    """Put a dead notification back in the queue, due now, with a fresh attempt budget. Audited."""
    row = await get_notification(session, notification_id=notification_id)
    if row.status != NotificationStatus.DEAD.value:
        raise ConflictError(
            f"Notification {notification_id} is {row.status}; only dead notifications can be retried."
        )
    before = {"status": row.status, "attempts": row.attempts, "last_error": row.last_error}
    row.status = NotificationStatus.PENDING.value
    row.attempts = 0
    row.next_attempt_at = clock.now()
    row.lease_until = None
    row.claim = None
    await session.flush()
    await record(
        session,
        actor=actor,
        action="notification.retry",
        target=f"notification:{notification_id}",
        before=before,
        after={"status": row.status, "attempts": 0},
        reason=reason,
        clock=clock,
    )
    return row
