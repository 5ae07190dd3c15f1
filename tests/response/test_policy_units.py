"""Escalation decisions without a database: conditions (severity, day, time-of-day window in a zone),
level skipping, repeat, default waits from the SLA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from fictra.response.conditions import holds
from fictra.response.config import Condition, Policy
from fictra.response.escalation import next_step, select_policy
from fictra.response.oncall import Directory

from .helpers import oncall

MON_0830_UTC = datetime(2026, 1, 5, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("condition", "at", "severity", "expected"),
    [
        ({}, MON_0830_UTC, "P3", True),
        ({"severities": ["P0"]}, MON_0830_UTC, "P1", False),
        ({"days": ["mon"]}, MON_0830_UTC, "P1", True),
        ({"days": ["sat", "sun"]}, MON_0830_UTC, "P1", False),
        ({"hours": "08:00-18:00"}, MON_0830_UTC, "P1", True),
        ({"hours": "09:00-18:00"}, MON_0830_UTC, "P1", False),
        ({"hours": "22:00-09:00"}, MON_0830_UTC, "P1", True),  # wraps past midnight
        ({"hours": "22:00-08:00"}, MON_0830_UTC, "P1", False),
        # 08:30 UTC is 09:30 in Zurich (winter): inside 09:00-18:00 there, and still Monday
        ({"hours": "09:00-18:00", "timezone": "Europe/Zurich"}, MON_0830_UTC, "P1", True),
        # 23:30 UTC Sunday is already Monday in Tokyo
        ({"days": ["mon"], "timezone": "Asia/Tokyo"}, datetime(2026, 1, 4, 23, 30, tzinfo=UTC), "P1", True),
    ],
)
def test_conditions(condition: dict, at: datetime, severity: str, expected: bool) -> None:
    assert holds(Condition.model_validate(condition), severity=severity, at=at) is expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "not a time zone name"),
        ({"hours": "8-18"}, "not a window like '08:00-18:00'"),
        ({"days": ["monday"]}, "Input should be 'mon'"),
        ({"severities": ["P9"]}, "Input should be 'P0'"),
    ],
)
def test_bad_conditions(raw: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Condition.model_validate(raw)


POLICY = Policy.model_validate(
    {
        "name": "p",
        "repeat": 1,
        "levels": [
            {"name": "day-support", "notify": {"people": ["alice"]}, "when": {"hours": "08:00-18:00"}},
            {"name": "schedule", "notify": {"schedule": "first-line"}},
            {"name": "lead", "notify": {"roles": ["technical_lead"]}, "wait": "5m"},
        ],
    }
)
DIRECTORY = Directory(oncall())


def test_levels_skip_when_their_condition_fails_and_waits_default_to_the_sla() -> None:
    night = datetime(2026, 1, 5, 23, 0, tzinfo=UTC)
    step = next_step(
        POLICY,
        level=-1,
        loop=0,
        severity="P0",
        at=night,
        directory=DIRECTORY,
        default_wait=timedelta(minutes=15),
    )
    assert (step.level_name, step.people, step.skipped) == ("schedule", ["alice"], ["day-support"])
    assert step.next_at == night + timedelta(minutes=15)
    step = next_step(
        POLICY, level=1, loop=0, severity="P0", at=night, directory=DIRECTORY, default_wait=timedelta(1)
    )
    assert (step.level_name, step.people, step.next_at) == ("lead", ["bob"], night + timedelta(minutes=5))


def test_repeat_loops_once_then_stops() -> None:
    day = MON_0830_UTC
    step = next_step(
        POLICY, level=2, loop=0, severity="P0", at=day, directory=DIRECTORY, default_wait=timedelta(1)
    )
    assert (step.level, step.loop, step.level_name) == (0, 1, "day-support")
    step = next_step(
        POLICY, level=2, loop=1, severity="P0", at=day, directory=DIRECTORY, default_wait=timedelta(1)
    )
    assert step.level is None and step.next_at is None


def test_no_policy_applies() -> None:
    only_p0 = Policy.model_validate(
        {"name": "p0", "when": {"severities": ["P0"]}, "levels": [{"name": "x", "notify": {"people": ["a"]}}]}
    )
    assert select_policy([only_p0], severity="P2", at=MON_0830_UTC) is None
    assert select_policy([only_p0], severity="P0", at=MON_0830_UTC) is only_p0
