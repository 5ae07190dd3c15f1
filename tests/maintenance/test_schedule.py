"""Occurrences on local wall time across DST, and the schedule refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fictra.errors import UsageError
from fictra.maintenance.schedule import Spec, occurrence_at, occurrences, zone


def weekly(rule: str = "FREQ=WEEKLY;BYDAY=SU") -> Spec:
    return Spec(datetime(2026, 3, 15, 4, 0), zone("Europe/Zurich"), timedelta(hours=2), rule)


def test_weekly_window_keeps_local_time_across_the_dst_change() -> None:
    found = occurrences(weekly(), datetime(2026, 3, 14, tzinfo=UTC), datetime(2026, 4, 6, tzinfo=UTC))
    starts = [s for s, _ in found]
    # Zurich moves from UTC+1 to UTC+2 on 2026-03-29: 04:00 local is 03:00 UTC, then 02:00 UTC
    assert starts == [
        datetime(2026, 3, 15, 3, tzinfo=UTC),
        datetime(2026, 3, 22, 3, tzinfo=UTC),
        datetime(2026, 3, 29, 2, tzinfo=UTC),
        datetime(2026, 4, 5, 2, tzinfo=UTC),
    ]
    assert all(e == s + timedelta(hours=2) for s, e in found)
    assert occurrence_at(weekly(), datetime(2026, 3, 29, 3, 59, tzinfo=UTC)) == (
        datetime(2026, 3, 29, 2, tzinfo=UTC),
        datetime(2026, 3, 29, 4, tzinfo=UTC),
    )
    assert occurrence_at(weekly(), datetime(2026, 3, 29, 4, 0, tzinfo=UTC)) is None  # end is exclusive
    assert occurrence_at(weekly(), datetime(2026, 3, 22, 2, 59, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        ("FREQ=FORTNIGHTLY", "FREQ must be one of"),
        ("FREQ=WEEKLY;BYDAY=XX", "is not valid"),
        ("FREQ=MINUTELY", "FREQ must be one of"),
        ("DTSTART:20260101T000000\nFREQ=DAILY", "one rule line"),
        ("FREQ=HOURLY", "would overlap"),
        ("FREQ=DAILY;UNTIL=20200101T000000", "has no occurrence"),
    ],
)
def test_bad_rules_are_refused_naming_the_rule(rule: str, needle: str) -> None:
    with pytest.raises(UsageError) as err:
        weekly(rule).validate()
    assert needle in err.value.user_message
    assert rule.split("\n")[0][:12] in err.value.user_message


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(UsageError, match="Mars/Olympus"):
        zone("Mars/Olympus")
