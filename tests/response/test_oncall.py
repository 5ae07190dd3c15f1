"""On-call rotations, overrides and iCalendar import; the response config loader's problems."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.support import config_dir
from fictra.config.problems import ConfigProblems
from fictra.platform.config_set import load_config_set
from fictra.response.config import OncallConfig
from fictra.response.oncall import OverrideSpan, ical_shifts, next_on_call, on_call

CFG = OncallConfig.model_validate(
    {
        "people": {"ann": {}, "ben": {}, "cy": {}},
        "schedules": [
            {
                "name": "primary",
                "rotations": [
                    {
                        "name": "weekly",
                        "people": ["ann", "ben", "cy"],
                        "start": "2026-01-05T09:00:00+00:00",
                        "shift": "7d",
                    }
                ],
            }
        ],
    }
)
SCHED = CFG.schedules[0]


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 1, day, hour, tzinfo=UTC)


def test_rotation_hands_off_at_the_handoff_time() -> None:
    assert [s.person for s in on_call(SCHED, at(5, 9))] == ["ann"]
    assert [s.person for s in on_call(SCHED, at(12, 8))] == ["ann"]
    assert [s.person for s in on_call(SCHED, at(12, 9))] == ["ben"]
    assert [s.person for s in on_call(SCHED, at(26, 9))] == ["ann"]  # wrapped around
    assert on_call(SCHED, at(4)) == []  # before the first hand-off


def test_now_and_next() -> None:
    when, shifts = next_on_call(SCHED, at(6)) or (None, [])
    assert when == at(12, 9) and [s.person for s in shifts] == ["ben"]


def test_override_wins_and_next_sees_its_end() -> None:
    override = OverrideSpan("primary", "cy", at(6, 18), at(7, 6))
    assert [s.person for s in on_call(SCHED, at(6, 20), [override])] == ["cy"]
    assert [s.person for s in on_call(SCHED, at(7, 7), [override])] == ["ann"]
    when, shifts = next_on_call(SCHED, at(6, 12), [override]) or (None, [])
    assert when == at(6, 18) and shifts[0].person == "cy" and shifts[0].source == "override"
    when, shifts = next_on_call(SCHED, at(6, 20), [override]) or (None, [])
    assert when == at(7, 6) and shifts[0].person == "ann"


ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:1
SUMMARY:ann
DTSTART:20260105T090000Z
DTEND:20260106T090000Z
RRULE:FREQ=DAILY;COUNT=3
END:VEVENT
BEGIN:VEVENT
UID:2
SUMMARY:ben
DTSTART:20260110T090000Z
DTEND:20260110T170000Z
END:VEVENT
END:VCALENDAR
"""


def test_ical_import_expands_recurring_shifts() -> None:
    spans = ical_shifts(ICS, schedule="primary", now=at(5, 0), horizon=timedelta(days=30))
    assert [(s.person, s.start, s.end) for s in spans] == [
        ("ann", at(5, 9), at(6, 9)),
        ("ann", at(6, 9), at(7, 9)),
        ("ann", at(7, 9), at(8, 9)),
        ("ben", at(10, 9), at(10, 17)),
    ]
    assert all(s.source == "ical" for s in spans)
    later = ical_shifts(ICS, schedule="primary", now=at(8, 0), horizon=timedelta(days=3))
    assert [(s.person, s.start) for s in later] == [("ann", at(7, 9)), ("ben", at(10, 9))]  # covering now


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a calendar", "not an iCalendar file"),
        (b"BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n", "no VEVENT"),
        (ICS.replace(b"SUMMARY:ann\n", b""), "no SUMMARY"),
        (ICS.replace(b"20260105T090000Z", b"20260105T090000"), "with a zone"),
    ],
)
def test_bad_ical_files(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ical_shifts(data, schedule="primary", now=at(5), horizon=timedelta(days=30))


def test_default_config_files_load(tmp_path: Path) -> None:
    repo_config = Path(__file__).resolve().parents[2] / "config"
    cfg = load_config_set(repo_config).response
    assert [lv.name for lv in cfg.escalation.policies[0].levels] == [
        "first_level_support",
        "technical_lead",
        "system_architect",
        "executive_team",
    ]
    assert cfg.routing.route.receiver == "ops-log" and cfg.channels("ops-log") == ["log"]
    empty = load_config_set(config_dir(tmp_path)).response
    assert empty.escalation.resolve_deadlines.P0 == timedelta(hours=4)


def test_every_problem_is_reported_with_file_and_key(tmp_path: Path) -> None:
    (config_dir(tmp_path) / "escalation.yaml").write_text(
        "policies:\n  - name: p\n    levels:\n      - name: l\n"
        "        notify: {people: [ghost], schedule: nope}\n"
    )
    (tmp_path / "oncall.yaml").write_text(
        "people: {ann: {}}\nschedules:\n  - name: s\n    rotations:\n"
        "      - {name: r, people: [ann, zed], start: '2026-01-01T00:00:00+00:00'}\n"
    )
    with pytest.raises(ConfigProblems) as info:
        load_config_set(tmp_path)
    assert info.value.problems == [
        "oncall.yaml:schedules.0.rotations.0.people.1: unknown person 'zed' (add it under people:)",
        "escalation.yaml:policies.0.levels.0.notify.people.0: unknown person 'ghost' "
        "(see oncall.yaml people:)",
        "escalation.yaml:policies.0.levels.0.notify.schedule: unknown schedule 'nope' "
        "(see oncall.yaml schedules:)",
    ]
    (tmp_path / "oncall.yaml").write_text(
        "schedules:\n  - name: s\n    rotations:\n"
        "      - {name: r, people: [a], start: '2026-01-01', shift: 0}\n"
    )
    (tmp_path / "inhibit.yaml").write_text(
        "inhibit_rules:\n  - {source_matchers: ['bad'], target_matchers: []}\n"
    )
    (tmp_path / "escalation.yaml").write_text(
        "policies:\n  - name: p\n    when: {days: [funday], hours: '25-26'}\n"
    )
    with pytest.raises(ConfigProblems) as info:
        load_config_set(tmp_path)
    text = "\n".join(info.value.problems)
    for expected in (
        "escalation.yaml:policies.0.when.days.0:",
        "escalation.yaml:policies.0.when.hours: hours '25-26' is not a window",
        "escalation.yaml:policies.0.levels: required key is missing",
        "oncall.yaml:schedules.0.rotations.0.start: start '2026-01-01' needs a zone offset",
        "oncall.yaml:schedules.0.rotations.0.shift: shift must be longer than 0",
        "inhibit.yaml:inhibit_rules.0.source_matchers.0: matcher 'bad' is not",
        "inhibit.yaml:inhibit_rules.0.target_matchers:",
    ):
        assert expected in text, expected


def test_receivers_must_exist_in_receivers_yaml(tmp_path: Path) -> None:
    repo_config = Path(__file__).resolve().parents[2] / "config"
    shutil.copy(repo_config / "receivers.yaml", config_dir(tmp_path) / "receivers.yaml")
    (tmp_path / "oncall.yaml").write_text("people:\n  x: {receiver: pager}\n")
    (tmp_path / "routing.yaml").write_text("route:\n  receiver: ops-log\n  routes:\n    - {receiver: nope}\n")
    with pytest.raises(ConfigProblems) as info:
        load_config_set(tmp_path)
    assert info.value.problems == [
        "routing.yaml:route.routes.0.receiver: unknown receiver 'nope' (receivers.yaml has: ops-log)",
        "oncall.yaml:people.x.receiver: unknown receiver 'pager' (receivers.yaml has: ops-log)",
    ]
