"""Config-as-code of alert response: ``escalation.yaml``, ``oncall.yaml``, ``routing.yaml``, ``inhibit.yaml``.

Every file is optional; missing files give the defaults (the runbook's escalation path, everything
routed to the ``ops-log`` receiver of ``receivers.yaml``, no inhibition).
:func:`fictra.response.loader.parse_response` collects every problem of every file, each as
``file:key.path: message``, and cross-checks the references (schedules and people named by escalation
levels, receivers of ``receivers.yaml`` named by routes and people).
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fictra.alerting.findings import Severity
from fictra.config.fields import Duration
from fictra.response.matchers import MatcherField

Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SeverityName = Literal["P0", "P1", "P2", "P3"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{value}' is not a time zone name such as 'UTC' or 'Europe/Zurich'") from None
    return value


class Condition(_Strict):
    """When a policy or level applies: severities, days of the week and a time-of-day window (all must
    hold; an empty list means any). ``hours`` like ``"08:00-18:00"``; a window past midnight wraps."""

    severities: list[SeverityName] = Field(default_factory=list, description="Any of these severities.")
    days: list[Day] = Field(default_factory=list, description="Any of these days (mon..sun).")
    hours: str | None = Field(default=None, description="Time-of-day window 'HH:MM-HH:MM'.")
    timezone: str = Field(default="UTC", description="Zone the days and hours are read in.")

    _check_zone = field_validator("timezone")(classmethod(lambda cls, v: _zone(v)))

    @field_validator("hours")
    @classmethod
    def _check_hours(cls, value: str | None) -> str | None:
        if value is None:
            return None
        window(value)
        return value


def window(text: str) -> tuple[time, time]:
    try:
        start, end = text.split("-")
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError:
        raise ValueError(f"hours '{text}' is not a window like '08:00-18:00'") from None


class Target(_Strict):
    """Who a level notifies: named people, everyone holding a role, and/or whoever is on call."""

    people: list[str] = Field(default_factory=list, description="People named in oncall.yaml.")
    roles: list[str] = Field(default_factory=list, description="Everyone with one of these roles.")
    schedule: str | None = Field(default=None, description="Whoever is on call in this schedule.")


class Level(_Strict):
    name: str
    notify: Target = Field(default_factory=Target, description="Who this level notifies.")
    wait: Duration | None = Field(
        default=None,
        description="How long to wait for acknowledgement before the next level "
        "(default: the severity's acknowledgement deadline).",
    )
    when: Condition | None = Field(default=None, description="Skip this level unless this holds.")


class Policy(_Strict):
    name: str
    when: Condition = Field(default_factory=Condition, description="Alerts this policy applies to.")
    levels: list[Level] = Field(min_length=1)
    repeat: int = Field(default=0, ge=0, le=100, description="Times to loop over the levels again.")


class Deadlines(_Strict):
    P0: Duration
    P1: Duration
    P2: Duration
    P3: Duration

    def of(self, severity: Severity | str) -> timedelta:
        value: timedelta = getattr(self, Severity(severity).value)
        return value


def _runbook_levels() -> list[Level]:
    return [
        Level(
            name="first_level_support", notify=Target(schedule="first-line", roles=["first_level_support"])
        ),
        Level(name="technical_lead", notify=Target(roles=["technical_lead"])),
        Level(name="system_architect", notify=Target(roles=["system_architect"])),
        Level(name="executive_team", notify=Target(roles=["executive"])),
    ]


class EscalationConfig(_Strict):
    resolve_deadlines: Deadlines = Field(
        default_factory=lambda: Deadlines(
            P0=timedelta(hours=4), P1=timedelta(hours=24), P2=timedelta(days=3), P3=timedelta(days=7)
        ),
        description="Time to resolve an alert of each severity, from when it fires.",
    )
    policies: list[Policy] = Field(
        default_factory=lambda: [Policy(name="runbook", levels=_runbook_levels())],
        description="Checked in order; the first whose 'when' holds escalates the alert.",
    )


class Person(_Strict):
    roles: list[str] = Field(default_factory=list)
    receiver: str = Field(
        default="ops-log", description="Receiver of receivers.yaml this person is notified through."
    )


class Rotation(_Strict):
    """People take turns: each shift lasts ``shift``; the first starts at ``start`` (the hand-off time)."""

    name: str
    people: list[str] = Field(min_length=1)
    start: str = Field(description="ISO time of the first hand-off, e.g. '2026-01-05T09:00:00+00:00'.")
    shift: Duration = Field(default=timedelta(days=7))

    @field_validator("start")
    @classmethod
    def _iso(cls, value: str) -> str:
        from datetime import datetime

        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"start '{value}' is not an ISO time like 2026-01-05T09:00:00+00:00") from None
        if parsed.tzinfo is None:
            raise ValueError(f"start '{value}' needs a zone offset (e.g. +00:00)")
        return value

    @field_validator("shift")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("shift must be longer than 0")
        return value


class Schedule(_Strict):
    name: str
    rotations: list[Rotation] = Field(default_factory=list, description="Layers; all on-call at once.")


class OncallConfig(_Strict):
    people: dict[str, Person] = Field(default_factory=dict)
    schedules: list[Schedule] = Field(default_factory=list)


class Route(_Strict):
    """A node of the routing tree (Alertmanager semantics). Unset options are inherited from the parent."""

    receiver: str | None = None
    matchers: list[MatcherField] = Field(default_factory=list)
    continue_: bool = Field(default=False, alias="continue")
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    routes: list[Route] = Field(default_factory=list)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RoutingConfig(_Strict):
    route: Route = Field(
        default_factory=lambda: Route(
            receiver="ops-log",
            group_by=["network", "monitor"],
            group_wait=timedelta(seconds=30),
            group_interval=timedelta(minutes=5),
            repeat_interval=timedelta(hours=4),
        )
    )

    @model_validator(mode="after")
    def _root_complete(self) -> RoutingConfig:
        if self.route.receiver is None:
            raise ValueError("route.receiver: the root route needs a receiver")
        if self.route.matchers:
            raise ValueError("route.matchers: the root route matches every alert; it takes no matchers")
        return self


class InhibitRule(_Strict):
    """While an alert matching ``source_matchers`` fires, alerts matching ``target_matchers`` that have
    the same values for every label in ``equal`` are muted."""

    source_matchers: list[MatcherField] = Field(min_length=1)
    target_matchers: list[MatcherField] = Field(min_length=1)
    equal: list[str] = Field(default_factory=list)


class InhibitConfig(_Strict):
    inhibit_rules: list[InhibitRule] = Field(default_factory=list)


__all__ = [
    "DAYS",
    "Condition",
    "EscalationConfig",
    "InhibitConfig",
    "InhibitRule",
    "OncallConfig",
    "Person",
    "Policy",
    "Rotation",
    "Route",
    "RoutingConfig",
    "Schedule",
    "Target",
    "ValidationError",
    "window",
]
