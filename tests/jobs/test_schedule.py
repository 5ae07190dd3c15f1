"""Due-time computation: interval jobs anchored on the epoch (no drift), cron jobs in a time zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fictra.errors import ConfigError
from fictra.jobs import Job, JobContext


async def _noop(ctx: JobContext) -> None:
    return None


def _at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_interval_due_times_are_anchored_on_the_epoch() -> None:
    job = Job(name="tick", every=timedelta(seconds=5), run=_noop)
    assert job.latest_due(_at(2026, 1, 1, 12, 0, 3)) == _at(2026, 1, 1, 12, 0, 0)
    assert job.latest_due(_at(2026, 1, 1, 12, 0, 5)) == _at(2026, 1, 1, 12, 0, 5)  # exactly on a due time
    assert job.latest_due(_at(2026, 1, 1, 12, 0, 4, 999_999)) == _at(2026, 1, 1, 12, 0, 0)
    assert job.next_due(_at(2026, 1, 1, 12, 0, 5)) == _at(2026, 1, 1, 12, 0, 10)  # strictly after


def test_interval_does_not_drift_and_two_processes_agree() -> None:
    job = Job(name="odd", every=timedelta(seconds=7, microseconds=1), run=_noop)
    # two processes started at different moments walk their own next_due chains
    a, b = _at(2026, 3, 1, 0, 0, 1), _at(2026, 3, 1, 0, 0, 4, 123)
    chain_a, chain_b = [], []
    for _ in range(2000):
        a, b = job.next_due(a), job.next_due(b)
        chain_a.append(a)
        chain_b.append(b)
    assert chain_a == chain_b
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert all((d - epoch) % job.every == timedelta(0) for d in chain_a if job.every)
    assert chain_a[-1] - chain_a[0] == 1999 * timedelta(seconds=7, microseconds=1)


def test_interval_offset_shifts_the_anchor() -> None:
    job = Job(name="hourly", every=timedelta(hours=1), offset=timedelta(minutes=5), run=_noop)
    assert job.latest_due(_at(2026, 1, 1, 12, 4)) == _at(2026, 1, 1, 11, 5)
    assert job.latest_due(_at(2026, 1, 1, 12, 5)) == _at(2026, 1, 1, 12, 5)
    assert job.next_due(_at(2026, 1, 1, 12, 5)) == _at(2026, 1, 1, 13, 5)


def test_cron_in_utc() -> None:
    job = Job(name="daily", cron="0 6 * * *", run=_noop)
    assert job.latest_due(_at(2026, 1, 2, 5, 59, 59)) == _at(2026, 1, 1, 6)
    assert job.latest_due(_at(2026, 1, 2, 6)) == _at(2026, 1, 2, 6)  # now is itself a due time
    assert job.latest_due(_at(2026, 1, 2, 6, 0, 0, 500_000)) == _at(2026, 1, 2, 6)
    assert job.next_due(_at(2026, 1, 2, 6)) == _at(2026, 1, 3, 6)
    every_15 = Job(name="quarter", cron="*/15 * * * *", run=_noop)
    assert every_15.latest_due(_at(2026, 1, 1, 10, 44)) == _at(2026, 1, 1, 10, 30)
    assert every_15.next_due(_at(2026, 1, 1, 10, 44)) == _at(2026, 1, 1, 10, 45)


def test_cron_follows_wall_clock_time_across_daylight_saving() -> None:
    # 06:00 in Zurich is 05:00 UTC in winter, 04:00 UTC in summer (DST starts 2026-03-29)
    job = Job(name="zurich", cron="0 6 * * *", tz="Europe/Zurich", run=_noop)
    dues = []
    at = _at(2026, 3, 27, 12)
    for _ in range(4):
        at = job.next_due(at)
        dues.append(at)
    assert dues == [_at(2026, 3, 28, 5), _at(2026, 3, 29, 4), _at(2026, 3, 30, 4), _at(2026, 3, 31, 4)]
    assert all(d.tzinfo is UTC for d in dues)
    assert job.latest_due(_at(2026, 3, 29, 4, 30)) == _at(2026, 3, 29, 4)
    assert job.latest_due(_at(2026, 3, 29, 3, 59)) == _at(2026, 3, 28, 5)


def test_cron_in_a_zone_west_of_utc_crosses_the_utc_date() -> None:
    job = Job(name="ny", cron="30 22 * * 1-5", tz="America/New_York", run=_noop)
    # Friday 2026-01-09 22:30 EST = Saturday 03:30 UTC; the next is Monday 22:30 EST
    assert job.latest_due(_at(2026, 1, 10, 12)) == _at(2026, 1, 10, 3, 30)
    assert job.next_due(_at(2026, 1, 10, 12)) == _at(2026, 1, 13, 3, 30)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs exactly one schedule"),
        ({"every": timedelta(seconds=1), "cron": "* * * * *"}, "needs exactly one schedule"),
        ({"every": timedelta(0)}, "must be positive"),
        ({"every": timedelta(seconds=5), "offset": timedelta(seconds=5)}, "offset=0:00:05"),
        ({"cron": "61 * * * *"}, "cron='61 * * * *'. Not a valid cron expression"),
        ({"cron": "0 6 * * *", "tz": "Mars/Olympus"}, "tz='Mars/Olympus'. Not a known IANA time zone"),
        ({"every": timedelta(seconds=5), "lease": timedelta(0)}, "lease must be positive"),
    ],
)
def test_bad_definitions_are_config_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match="Job 'x'") as raised:
        Job(name="x", run=_noop, **kwargs)  # type: ignore[arg-type]
    assert message in raised.value.user_message


def test_bad_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Job name 'Bad Name' is not valid"):
        Job(name="Bad Name", every=timedelta(seconds=1), run=_noop)
