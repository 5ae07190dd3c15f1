"""Writing an action's progress: one ``action_events`` row plus its audit entry (and the ``on_event``
callback) per step, with the action's status and fields changed in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.auth.actor import SYSTEM
from fictra.clock import Clock
from fictra.emergency.models import EmergencyAction
from fictra.emergency.service import OnEvent, add_event, load_action
from fictra.emergency.types import FINAL_STATUSES

__all__ = ["Recorder"]

# what a step may change on the action row besides its events
_FIELDS = frozenset({"status", "error", "scheduled_ready_at", "timelock_op", "verification", "confirmed_at"})


class Recorder:
    def __init__(
        self, *, sessions: async_sessionmaker[AsyncSession], clock: Clock, on_event: OnEvent | None
    ) -> None:
        self.sessions, self.clock, self.on_event = sessions, clock, on_event

    async def add(
        self,
        session: AsyncSession,
        action: EmergencyAction,
        kind: str,
        text: str,
        actor: object = SYSTEM,
        **details: Any,
    ) -> None:
        """An event in the caller's transaction."""
        await add_event(
            session, action, kind=kind, actor=actor, text=text, clock=self.clock, details=details,
            on_event=self.on_event,
        )  # fmt: skip

    async def event(
        self,
        action_id: int,
        kind: str,
        text: str,
        *,
        updates: Mapping[str, Any] | None = None,
        actor: object = SYSTEM,
        **details: Any,
    ) -> None:
        """An event in its own transaction, with ``updates`` (status, error, scheduled_ready_at,
        timelock_op...) applied to the locked action row first."""
        async with self.sessions.begin() as s:
            action = await load_action(s, action_id, lock=True)
            for name, value in (updates or {}).items():
                if name not in _FIELDS:
                    raise KeyError(f"an action step may not change '{name}'")
                setattr(action, name, value)
            await self.add(s, action, kind, text, actor=actor, **details)

    async def fail(self, action_id: int, message: str) -> None:
        """Mark the action failed with ``message`` (nothing when it already ended)."""
        async with self.sessions.begin() as s:
            action = await load_action(s, action_id, lock=True)
            if action.status in FINAL_STATUSES:
                return
            before = action.status
            action.status, action.error = "failed", message
            await self.add(s, action, "failed", f"Failed: {message}", previous=before)

    async def verified(self, action_id: int, ok: bool, text: str, details: dict[str, Any]) -> None:
        async with self.sessions.begin() as s:
            action = await load_action(s, action_id, lock=True)
            action.verification = {"ok": ok, "text": text, **details}
            if ok:
                action.status = "verified"
                await self.add(s, action, "verified", f"Verified: {text}", **details)
            else:
                action.status = "failed"
                action.error = f"not verified: {text}"
                await self.add(s, action, "failed", f"Not verified: {text}", **details)
