"""What a job function receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import Clock


@dataclass(frozen=True)
class JobContext:
    """One run of one job.

    ``due_at`` is the due time this run is for (UTC; for a run woken early by ``Scheduler.wake`` it is
    the wake time); ``now`` is when the run started. Use ``clock`` for any further time and
    ``sessions`` for database work (open your own transactions; the run record is written separately).
    """

    job: str
    due_at: datetime
    now: datetime
    clock: Clock
    sessions: async_sessionmaker[AsyncSession]
    holder: str
    woken: bool = False
