"""Job definitions and their schedules: when is a job due?

Two kinds of schedule, both pure functions of time so that every process computes the same due times
without talking to the others (the database then lets exactly one of them run each due time):

- ``every=timedelta(...)``: due at ``EPOCH + offset + k * every`` (1970-01-01T00:00Z). Anchored on the
  epoch, not on the previous run: no drift, and two processes started at different moments agree.
  Use a cron schedule for wall-clock times in a time zone.
- ``cron="0 6 * * *", tz="Europe/Zurich"``: standard five-field cron evaluated in ``tz`` (croniter;
  daylight-saving gaps and repeats handled by croniter); due times are stored in UTC.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from fictra.errors import ConfigError

if TYPE_CHECKING:
    from fictra.jobs.context import JobContext

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAME = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,99}$")

JobFn = Callable[["JobContext"], Awaitable[None]]


@dataclass(frozen=True)
class Job:
    """A named periodic job. Exactly one of ``every`` / ``cron``.

    ``lease`` is how long a process may hold the job without renewing its lease before another
    process may take the job over (renewed every ``lease / 3`` while the job runs).
    """

    name: str
    run: JobFn
    every: timedelta | None = None
    offset: timedelta = timedelta(0)
    cron: str | None = None
    tz: str = "UTC"
    lease: timedelta = timedelta(seconds=60)
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        where = f"Job '{self.name}'"
        if not NAME.match(self.name):
            raise ConfigError(
                f"Job name '{self.name}' is not valid: use 1-100 lowercase letters, digits "
                "and '_', '.', ':', '-'."
            )
        if (self.every is None) == (self.cron is None):
            raise ConfigError(f"{where} needs exactly one schedule: every=timedelta(...) or cron='...'.")
        if self.every is not None and self.every <= timedelta(0):
            raise ConfigError(f"{where} has every={self.every}. The interval must be positive.")
        if self.every is not None and not timedelta(0) <= self.offset < self.every:
            raise ConfigError(f"{where} has offset={self.offset}. It must be in [0, every).")
        if self.cron is not None and not croniter.is_valid(self.cron):
            raise ConfigError(f"{where} has cron='{self.cron}'. Not a valid cron expression.")
        if self.lease <= timedelta(0):
            raise ConfigError(f"{where} has lease={self.lease}. The lease must be positive.")
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"{where} has tz='{self.tz}'. Not a known IANA time zone.") from None
        object.__setattr__(self, "_zone", zone)

    def latest_due(self, now: datetime) -> datetime:
        """The latest due time at or before ``now`` (UTC)."""
        if self.every is not None:
            anchor = EPOCH + self.offset
            return anchor + ((now - anchor) // self.every) * self.every
        cron = self._cron_expr()
        local = now.astimezone(self._zone)
        prev: datetime = croniter(cron, local).get_prev(datetime)
        # get_prev is strictly before ``now``; ``now`` itself may be a due time
        following: datetime = croniter(cron, prev).get_next(datetime)
        due = following if following <= local else prev
        return due.astimezone(UTC)

    def next_due(self, after: datetime) -> datetime:
        """The first due time strictly after ``after`` (UTC)."""
        if self.every is not None:
            return self.latest_due(after) + self.every
        nxt: datetime = croniter(self._cron_expr(), after.astimezone(self._zone)).get_next(datetime)
        return nxt.astimezone(UTC)

    def describe(self) -> str:
        if self.every is not None:
            return f"every {self.every}" + (f" (offset {self.offset})" if self.offset else "")
        return f"cron '{self.cron}' ({self.tz})"

    def _cron_expr(self) -> str:
        if self.cron is None:  # unreachable: __post_init__ guarantees a schedule
            raise ConfigError(f"Job '{self.name}' has no cron expression.")
        return self.cron
