"""The outbox as a platform task: ``extra.append(outbox_task(settings=s, receivers=config.receivers,
sessions=platform.sessions, clock=clock, metrics=metrics))``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import Clock
from fictra.metrics import Metrics
from fictra.notify.config import ReceiversConfig, load_receivers
from fictra.notify.metrics import OutboxMetrics
from fictra.notify.worker import Outbox
from fictra.settings import Settings


def build_outbox(
    *,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    metrics: Metrics | None = None,
    receivers: ReceiversConfig | None = None,
) -> Outbox:
    """An outbox for ``receivers`` (the config set's section; by default ``settings.config_dir``'s
    receivers.yaml, validated here); secrets' file: references are relative to the config dir."""
    config = receivers if receivers is not None else load_receivers(settings.config_dir / "receivers.yaml")
    return Outbox(
        sessions=sessions,
        config=config,
        clock=clock,
        base_dir=settings.config_dir,
        metrics=OutboxMetrics(metrics.registry) if metrics is not None else None,
    )


def outbox_task(
    *,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    metrics: Metrics | None = None,
    receivers: ReceiversConfig | None = None,
) -> Callable[[asyncio.Event], Awaitable[None]]:
    """A task for :func:`fictra.platform.run.run`'s ``extra``: delivers until ``stop`` is set."""
    outbox = build_outbox(
        settings=settings, sessions=sessions, clock=clock, metrics=metrics, receivers=receivers
    )
    return outbox.run
