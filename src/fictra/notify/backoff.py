"""Retry timing: exponential backoff with jitter, and per-channel token buckets. Time and randomness
are injected, so schedules are exact in tests."""

from __future__ import annotations

import random

from fictra.clock import Clock
from fictra.notify.config import DeliveryPolicy, RateLimit


def backoff_seconds(attempt: int, policy: DeliveryPolicy, rng: random.Random) -> float:
    """Wait after failed attempt number ``attempt`` (1-based): initial * multiplier**(attempt-1), capped
    at max_backoff, then scaled by a uniform factor in [1 - jitter, 1 + jitter] (and capped again)."""
    initial = policy.initial_backoff.total_seconds()
    cap = policy.max_backoff.total_seconds()
    exponent = min(max(attempt - 1, 0), 64)
    base = min(cap, initial * policy.multiplier**exponent)
    factor = 1.0 + policy.jitter * (2.0 * rng.random() - 1.0)
    return round(max(0.0, min(cap, base * factor)), 3)  # whole milliseconds: exact as a timedelta


class TokenBucket:
    """``per_second`` tokens per second up to ``burst``; :meth:`take` returns 0 when a token was taken,
    else the seconds until one will be available (nothing taken)."""

    def __init__(self, limit: RateLimit, *, clock: Clock) -> None:
        self.rate = limit.per_second
        self.burst = float(limit.burst)
        self.clock = clock
        self.tokens = self.burst
        self.updated = clock.monotonic()

    def _refill(self) -> None:
        now = self.clock.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self) -> float:
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate
