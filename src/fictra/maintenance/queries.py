"""Read models of maintenance windows: list, detail (holds with their alerts, events)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert
from fictra.errors import NotFoundError
from fictra.maintenance.models import OPEN_STATES, MaintenanceEvent, MaintenanceHold, MaintenanceWindow
from fictra.maintenance.schemas import EventView, HoldView, WindowDetail, WindowView
from fictra.maintenance.windows import active_occurrence, window_occurrences

__all__ = ["MAX_LIMIT", "get_window", "list_windows", "window_view"]

MAX_LIMIT = 500


def window_view(row: MaintenanceWindow, now: datetime) -> WindowView:
    view = WindowView.model_validate(row)
    occ = active_occurrence(row, now)
    upcoming = None
    if row.state in OPEN_STATES:
        later = window_occurrences(row, now, now + timedelta(days=400))
        upcoming = next((s for s, _ in later if s > now), None)
    return view.model_copy(
        update={
            "open_now": occ is not None,
            "current_start": occ[0] if occ else None,
            "current_end": occ[1] if occ else None,
            "next_start": upcoming,
        }
    )


async def list_windows(
    session: AsyncSession, *, now: datetime, state: str | None = None, limit: int = 100
) -> list[WindowView]:
    stmt = select(MaintenanceWindow).order_by(MaintenanceWindow.id.desc()).limit(min(limit, MAX_LIMIT))
    if state == "open":
        stmt = stmt.where(MaintenanceWindow.state.in_(OPEN_STATES))
    elif state:
        stmt = stmt.where(MaintenanceWindow.state == state)
    return [window_view(r, now) for r in (await session.execute(stmt)).scalars()]


async def get_window(session: AsyncSession, *, window_id: int, now: datetime) -> WindowDetail:
    row = await session.get(MaintenanceWindow, window_id)
    if row is None:
        raise NotFoundError(f"No maintenance window with id {window_id}.")
    holds = await session.execute(
        select(MaintenanceHold, Alert.summary, Alert.severity)
        .join(Alert, Alert.id == MaintenanceHold.alert_id)
        .where(MaintenanceHold.window_id == window_id)
        .order_by(MaintenanceHold.id)
    )
    events = await session.execute(
        select(MaintenanceEvent).where(MaintenanceEvent.window_id == window_id).order_by(MaintenanceEvent.id)
    )
    return WindowDetail(
        window=window_view(row, now),
        holds=[
            HoldView.model_validate(h).model_copy(update={"summary": summary, "severity": severity})
            for h, summary, severity in holds.all()
        ],
        events=[EventView.model_validate(e) for e in events.scalars()],
    )
