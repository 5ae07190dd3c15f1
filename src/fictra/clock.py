"""Injected time. Everything that waits, schedules or measures a deadline takes a :class:`Clock`.

Tests use :class:`FakeClock` and advance it explicitly, so SLA and escalation tests run in
milliseconds without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""

    def monotonic(self) -> float:
        """Seconds on a monotonic scale, for measuring intervals."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (a fake clock returns at once after advancing)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeClock:
    """A clock that moves only when told to (``advance``) or when something sleeps on it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    async def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        await asyncio.sleep(0)


async def wait_or_stop(stop: asyncio.Event, seconds: float, clock: Clock) -> bool:
    """Sleep on ``clock`` for ``seconds`` unless ``stop`` is set first; True when stopping.

    The one way periodic platform tasks (polled monitors, gauges, escalation tick, audit checkpoints)
    wait, so a fake clock drives them in tests and a stop ends them at once."""
    if stop.is_set():
        return True
    stopper = asyncio.ensure_future(stop.wait())
    sleeper = asyncio.ensure_future(clock.sleep(seconds))
    try:
        await asyncio.wait({stopper, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (stopper, sleeper):
            task.cancel()
    return stop.is_set()
