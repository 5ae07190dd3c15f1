"""The maintenance windows of change requests, as change management's ports (``changes.ports``): open one
for a scheduled change's slot and scope, cancel it when the change leaves "scheduled" unstarted, mark its
work done when the implementation is over.

Two changes on the same component in overlapping slots (a conflict their approvers acknowledged) share
one window: the maintenance domain refuses a second window with the same scope over the same time, so the
second change gets the first one's window; only the window's owning change cancels it or marks it done.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.changes.ports import WindowRequest
from fictra.clock import Clock
from fictra.errors import ConflictError
from fictra.maintenance.config import MaintenanceConfig
from fictra.maintenance.models import OPEN_STATES, MaintenanceWindow
from fictra.maintenance.service import cancel_window, create_window, mark_done
from fictra.maintenance.windows import parse_scope, scope_key, window_occurrences

__all__ = ["ChangeWindows"]


@dataclass(frozen=True)
class ChangeWindows:
    config: MaintenanceConfig
    clock: Clock

    async def _shared(self, session: AsyncSession, request: WindowRequest) -> int | None:
        """An open window with the same scope over the slot (another change's), if any."""
        key = scope_key(parse_scope(request.matchers))[:2000]
        rows = await session.execute(
            select(MaintenanceWindow).where(
                MaintenanceWindow.scope_key == key, MaintenanceWindow.state.in_(OPEN_STATES)
            )
        )
        for row in rows.scalars():
            if window_occurrences(row, request.starts_at, request.ends_at):
                return row.id
        return None

    async def open(self, session: AsyncSession, request: WindowRequest, actor: object) -> int:
        shared = await self._shared(session, request)
        if shared is not None:
            return shared
        view = await create_window(
            session,
            title=request.title,
            matchers=request.matchers,
            owner=request.owner,
            actor=actor,
            clock=self.clock,
            config=self.config,
            starts_at=request.starts_at,
            ends_at=request.ends_at,
            steps=request.steps,
            owner_change_id=request.change_id,
            description=f"Opened by change request #{request.change_id} for its planned slot.",
        )
        return view.id

    async def _owned(self, session: AsyncSession, window_id: int, change_id: int) -> bool:
        row = await session.get(MaintenanceWindow, window_id)
        return row is not None and row.owner_change_id == change_id

    async def close(
        self, session: AsyncSession, window_id: int, change_id: int, reason: str, actor: object
    ) -> None:
        if not await self._owned(session, window_id, change_id):
            return  # another change's window, shared: it stays
        try:
            await cancel_window(session, window_id=window_id, actor=actor, clock=self.clock, reason=reason)
        except ConflictError:  # already ended or canceled by hand (refused before writing anything)
            return

    async def done(
        self, session: AsyncSession, window_id: int, change_id: int, note: str, actor: object
    ) -> None:
        if not await self._owned(session, window_id, change_id):
            return
        try:
            await mark_done(session, window_id=window_id, actor=actor, clock=self.clock, note=note)
        except ConflictError:  # not open now (over, ended or canceled), or already marked: nothing to do
            return
