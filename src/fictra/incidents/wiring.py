"""TRANSITIONAL glue until ``platform/assemble.py`` builds the incidents context itself.

``cli/up.py``, the e2e harness and the emergency bench still call :func:`attach`. Both names here go
away when the integrator's ``assemble()``:

* builds ``IncidentsContext(config=config_set.incidents, clock=..., pool=..., manifest=...,
  console_url=..., actions=<an ActionLedger over the emergency actions>)``
  (:class:`fictra.incidents.flows.IncidentsContext`),
* puts ``ctx.on_changes`` in the list of stages after the alert store, passes ``ctx.on_action_event``
  to the emergency runner as its ``on_event``, and registers
  :func:`fictra.incidents.jobs.incident_jobs` on the job scheduler.

:class:`EmergencyActions` is the reference :class:`~fictra.incidents.linked_actions.ActionLedger` over
the emergency domain's tables; it belongs with that glue (or in the emergency domain) and is the only
place in this package that imports ``fictra.emergency`` — it moves out with this module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.values import AlertChange
from fictra.errors import FictraError
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.flows import IncidentsContext
from fictra.incidents.jobs import tick_loop
from fictra.incidents.linked_actions import ActionBrief, ActionRecord, ActionTimelineItem

if TYPE_CHECKING:
    from fictra.platform.assemble import Platform

__all__ = ["EFFECT_WINDOW", "EmergencyActions", "attach"]

Task = Callable[[asyncio.Event], Awaitable[None]]

# conditions an emergency action causes on purpose -> the action kinds that cause them
_EFFECTS = {
    "paused": ("pause_all", "emergency_shutdown"),
    "trading_halted": ("halt_trading", "emergency_shutdown"),
}
EFFECT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class _Brief:
    id: int
    title: str
    incident_id: int | None
    containment: bool


class EmergencyActions:
    """The incidents domain's view of the emergency actions (see :mod:`fictra.incidents.linked_actions`)."""

    async def timeline(self, session: AsyncSession, *, incident_id: int) -> Sequence[ActionTimelineItem]:
        from fictra.emergency.service import events_for_incident

        return await events_for_incident(session, incident_id)

    async def actions(self, session: AsyncSession, *, incident_id: int) -> Sequence[ActionRecord]:
        from fictra.emergency.service import list_actions

        return await list_actions(session, incident_id=incident_id, limit=1000)

    async def brief(self, session: AsyncSession, *, action_id: int) -> ActionBrief | None:
        from fictra.emergency.definitions import definition
        from fictra.emergency.models import EmergencyAction

        action = await session.get(EmergencyAction, action_id)
        if action is None:
            return None
        try:
            containment = definition(action.kind).containment
        except FictraError:
            containment = False
        return _Brief(action.id, action.title, action.incident_id, containment)

    async def caused_by(
        self, session: AsyncSession, *, tx_hashes: Sequence[str], condition: str | None, now: datetime
    ) -> tuple[int, int | None] | None:
        from fictra.emergency.models import ActionTx, EmergencyAction

        hashes = [h.lower() for h in tx_hashes if h]
        if hashes:
            row = (
                await session.execute(
                    select(EmergencyAction.id, EmergencyAction.incident_id)
                    .join(ActionTx, ActionTx.action_id == EmergencyAction.id)
                    .where(func.lower(ActionTx.tx_hash).in_(hashes), ActionTx.status != "failed")
                    .limit(1)
                )
            ).first()
            if row is not None:
                return int(row[0]), row[1]
        kinds = _EFFECTS.get(condition or "")
        if not kinds:
            return None
        row = (
            await session.execute(
                select(EmergencyAction.id, EmergencyAction.incident_id)
                .join(ActionTx, ActionTx.action_id == EmergencyAction.id)
                .where(
                    EmergencyAction.kind.in_(kinds),
                    ActionTx.tx_hash.is_not(None),
                    ActionTx.status != "failed",
                    or_(  # signed, being sent right now, or sent within the window
                        and_(ActionTx.submitted_at.is_(None), ActionTx.status == "signed"),
                        ActionTx.submitted_at >= now - EFFECT_WINDOW,
                    ),
                )
                .order_by(ActionTx.id.desc())
                .limit(1)
            )
        ).first()
        return (int(row[0]), row[1]) if row is not None else None


def attach(
    platform: Platform,
    *,
    config: IncidentsConfig | None = None,
    console_url: str | None = None,
    interval: float | None = None,
) -> Task:
    """Hook auto-declare after any existing ``on_changes``, expose the context as
    ``platform.incidents`` and return the tick task (evidence jobs, cadence reminders)."""
    config = config or platform.config.incidents
    ctx = IncidentsContext(
        config=config,
        clock=platform.clock,
        console_url=console_url,
        pool=platform.pool,
        manifest=platform.manifest,
        actions=EmergencyActions(),
    )
    previous = platform.pipeline.on_changes

    async def on_changes(changes: list[AlertChange], session: AsyncSession) -> None:
        if previous is not None:
            await previous(changes, session)
        await ctx.on_changes(changes, session)

    platform.pipeline.on_changes = on_changes
    setattr(platform, "incidents", ctx)  # noqa: B010 - read by fictra.api.routes.incidents
    every = interval if interval is not None else config.tick_interval.total_seconds()
    return lambda stop: tick_loop(platform.sessions, ctx, stop, interval=max(every, 0.01))
