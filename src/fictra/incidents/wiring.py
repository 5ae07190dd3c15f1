"""TRANSITIONAL glue until ``platform/assemble.py`` builds the incidents context itself.

``cli/up.py``, the e2e harness and the emergency bench still call :func:`attach`. It goes away when the
integrator's ``assemble()``:

* builds ``IncidentsContext(config=config_set.incidents, clock=..., pool=..., manifest=...,
  console_url=..., actions=<an ActionLedger over the emergency actions>)``
  (:class:`fictra.incidents.flows.IncidentsContext`),
* puts ``ctx.on_changes`` in the list of stages after the alert store, passes ``ctx.on_action_event``
  to the emergency runner as its ``on_event``, and registers
  :func:`fictra.incidents.jobs.incident_jobs` on the job scheduler.

The ledger is :class:`fictra.emergency.ledger.ActionsLedger`, which satisfies
:class:`fictra.incidents.linked_actions.ActionLedger` structurally. The import of it in :func:`attach` is
the only place in this package that names ``fictra.emergency``; it goes away with this module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.values import AlertChange
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import Clock
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.flows import IncidentsContext
from fictra.incidents.jobs import tick_loop
from fictra.incidents.linked_actions import ActionLedger
from fictra.monitors.pipeline import AlertPipeline


class PlatformParts(Protocol):
    """What :func:`attach` uses of ``fictra.platform.assemble.Platform`` (not imported: layers go down)."""

    config: Any
    clock: Clock
    pool: RpcPool
    manifest: Manifest
    pipeline: AlertPipeline
    sessions: async_sessionmaker[AsyncSession]


__all__ = ["attach"]

Task = Callable[[asyncio.Event], Awaitable[None]]


def attach(
    platform: PlatformParts,
    *,
    config: IncidentsConfig | None = None,
    console_url: str | None = None,
    interval: float | None = None,
    actions: ActionLedger | None = None,
) -> Task:
    """Hook auto-declare after any existing ``on_changes``, expose the context as
    ``platform.incidents`` and return the tick task (evidence jobs, cadence reminders). ``actions``
    defaults to the emergency domain's ledger."""
    if actions is None:
        from fictra.emergency.ledger import ActionsLedger  # transitional: assemble() passes it in

        actions = ActionsLedger()
    config = config or platform.config.incidents
    ctx = IncidentsContext(
        config=config,
        clock=platform.clock,
        console_url=console_url,
        pool=platform.pool,
        manifest=platform.manifest,
        actions=actions,
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
