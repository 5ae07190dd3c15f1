"""Escalation policies as pure decisions: which policy applies, and who the next level notifies.

A level notifies its people, everyone with its roles and whoever is on call in its schedule. A level
whose condition does not hold, or where nobody is reachable, is skipped (straight to the next). After the
last level the policy loops ``repeat`` times; then escalation stops. Each level waits ``wait`` (default:
the severity's acknowledgement deadline, so the runbook's SLA paces the path) before the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fictra.response.conditions import holds
from fictra.response.config import Level, Policy
from fictra.response.oncall import Directory


def select_policy(policies: Sequence[Policy], *, severity: str, at: datetime) -> Policy | None:
    return next((p for p in policies if holds(p.when, severity=severity, at=at)), None)


def level_people(level: Level, directory: Directory, at: datetime) -> list[str]:
    people: set[str] = set(level.notify.people)
    for role in level.notify.roles:
        people.update(directory.with_role(role))
    if level.notify.schedule is not None:
        people.update(directory.on_call(level.notify.schedule, at))
    return sorted(people)


@dataclass(frozen=True)
class Step:
    """The outcome of moving up: the level reached (None when the path is exhausted), who it notifies,
    when to move again, and the levels passed over on the way."""

    level: int | None
    loop: int
    level_name: str = ""
    people: list[str] = field(default_factory=list)
    next_at: datetime | None = None
    skipped: list[str] = field(default_factory=list)


def next_step(
    policy: Policy,
    *,
    level: int,
    loop: int,
    severity: str,
    at: datetime,
    directory: Directory,
    default_wait: timedelta,
) -> Step:
    """Move up from ``level`` (-1: not started) on loop ``loop``."""
    skipped: list[str] = []
    index, current_loop = level + 1, loop
    tries = len(policy.levels) * (policy.repeat + 1)
    for _ in range(tries):
        if index >= len(policy.levels):
            if current_loop >= policy.repeat:
                break
            index, current_loop = 0, current_loop + 1
        candidate = policy.levels[index]
        people = (
            level_people(candidate, directory, at) if holds(candidate.when, severity=severity, at=at) else []
        )
        if people:
            wait = candidate.wait if candidate.wait is not None else default_wait
            return Step(index, current_loop, candidate.name, people, at + wait, skipped)
        skipped.append(candidate.name)
        index += 1
    return Step(None, current_loop, skipped=skipped)
