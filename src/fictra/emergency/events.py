"""An action's timeline row: one ``action_events`` row plus its audit entry, in the caller's transaction,
then the ``on_event`` callback (the integrator passes one in: incidents hears of verified containment)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name, record
from fictra.clock import Clock
from fictra.emergency.models import ActionEvent, EmergencyAction
from fictra.emergency.queries import event_view
from fictra.emergency.types import ActionEventView

__all__ = ["OnEvent", "add_event"]

OnEvent = Callable[[AsyncSession, ActionEventView], Awaitable[None]]


async def add_event(
    session: AsyncSession,
    action: EmergencyAction,
    *,
    kind: str,
    actor: object,
    text: str,
    clock: Clock,
    details: Mapping[str, Any] | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    on_event: OnEvent | None = None,
) -> ActionEventView:
    """One timeline row plus its audit entry (``action.<kind>``, target ``action:<id>``), in the
    caller's transaction; then ``on_event`` (same transaction)."""
    name = actor_name(actor)
    row = ActionEvent(
        action_id=action.id,
        at=clock.now(),
        kind=kind,
        actor=name,
        text=text,
        details=dict(details or {}),
    )
    session.add(row)
    action.updated_at = row.at
    await session.flush()
    await record(
        session,
        actor=name,
        action=f"action.{kind}",
        target=f"action:{action.id}",
        before=before,
        after={"kind": action.kind, "status": action.status, **(after or {}), **dict(details or {})},
        reason=text,
        clock=clock,
    )
    view = event_view(row)
    if on_event is not None:
        await on_event(session, view)
    return view
