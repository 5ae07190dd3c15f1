"""Plug alert response into an assembled platform: the pipeline stages on the alert store's changes, and
the escalation/SLA tick as a platform task."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.values import AlertChange
from fictra.response.context import ResponseContext
from fictra.response.loader import ResponseConfig
from fictra.response.pipeline import ResponsePipeline
from fictra.response.scheduled import tick_loop
from fictra.response.sla import SlaMetrics

if TYPE_CHECKING:
    from fictra.platform.assemble import Platform

Task = Callable[[asyncio.Event], Awaitable[None]]


def attach(
    platform: Platform, *, link_base: str, config: ResponseConfig | None = None, interval: float = 5.0
) -> tuple[ResponseContext, Task]:
    """Hook the stages after any existing ``on_changes`` and return the context (also set as
    ``platform.response``) and the tick task to run with the platform. ``config`` defaults to the
    platform's config set (read once at start-up)."""
    config = config or platform.config.response
    ctx = ResponseContext(
        config=config,
        clock=platform.clock,
        alert_policy=platform.config.policy,
        metrics=SlaMetrics.register(platform.metrics.registry),
        link_base=link_base,
    )
    stages = ResponsePipeline(ctx)
    previous = platform.pipeline.on_changes

    async def on_changes(changes: list[AlertChange], session: AsyncSession) -> None:
        if previous is not None:
            await previous(changes, session)
        await stages.on_changes(changes, session)

    platform.pipeline.on_changes = on_changes
    setattr(platform, "response", ctx)  # noqa: B010 - read by fictra.api.routes.response
    return ctx, lambda stop: tick_loop(platform.sessions, ctx, stop, interval=interval)
