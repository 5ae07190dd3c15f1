"""The outbox as a platform task: ``extra.append(outbox_task(settings=s, sessions=..., clock=clock))``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import Clock
from fictra.notify.config import load_receivers
from fictra.notify.worker import Outbox
from fictra.settings import Settings


def build_outbox(*, settings: Settings, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> Outbox:
    """An outbox for ``settings.config_dir``/receivers.yaml (validated here: a bad file is a ConfigError
    at start-up, not at the first notification); secrets' file: references are relative to that dir."""
    config = load_receivers(settings.config_dir / "receivers.yaml")
    return Outbox(sessions=sessions, config=config, clock=clock, base_dir=settings.config_dir)


def outbox_task(
    *, settings: Settings, sessions: async_sessionmaker[AsyncSession], clock: Clock
) -> Callable[[asyncio.Event], Awaitable[None]]:
    """A task for :func:`fictra.platform.run.run`'s ``extra``: delivers until ``stop`` is set."""
    outbox = build_outbox(settings=settings, sessions=sessions, clock=clock)
    return outbox.run
