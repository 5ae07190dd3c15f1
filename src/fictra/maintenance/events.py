"""What happened in a window (``maintenance_events``): one writer, once-only events by key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.clock import Clock
from fictra.maintenance.models import MaintenanceEvent

__all__ = ["has_event", "log_event"]


async def has_event(session: AsyncSession, *, window_id: int, key: str) -> bool:
    found = await session.execute(
        select(MaintenanceEvent.id).where(
            MaintenanceEvent.window_id == window_id, MaintenanceEvent.key == key
        )
    )
    return found.first() is not None


async def log_event(
    session: AsyncSession,
    *,
    window_id: int,
    kind: str,
    actor: str,
    text: str,
    clock: Clock,
    key: str | None = None,
    details: dict[str, Any] | None = None,
) -> MaintenanceEvent:
    row = MaintenanceEvent(
        window_id=window_id,
        at=clock.now(),
        kind=kind,
        key=key,
        actor=actor,
        text=text[:4000],
        details=details or {},
    )
    session.add(row)
    await session.flush()
    return row
