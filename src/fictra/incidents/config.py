"""config/incidents.yaml: communication cadence, stakeholder groups, templates, auto-declare policy.

A section of the config set (:mod:`fictra.platform.config_set`): Pydantic models with ``extra="forbid"``,
every problem as ``incidents.yaml:key.path: message``; :func:`check_references` checks the receivers named
by stakeholder groups and the on-call schedules named by auto-declare roles against the receivers and
response sections (this module reads no file).
"""

from __future__ import annotations

import fnmatch
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from fictra.config.fields import Duration
from fictra.incidents.phases import CATEGORIES, SEVERITIES
from fictra.response.config import OncallConfig

__all__ = [
    "GROUPS",
    "AlertMatch",
    "AutoDeclare",
    "CategoryRule",
    "CorrelationRule",
    "IncidentsConfig",
    "check_references",
]

FILE = "incidents.yaml"
ROLES = ("commander", "scribe", "liaison", "responder")
GROUPS = ("technical_team", "business_team", "sovereign_participants", "market_participants", "regulators")
_DEFAULT_CADENCE = {
    "P0": timedelta(minutes=30),
    "P1": timedelta(hours=1),
    "P2": timedelta(hours=4),
    "P3": timedelta(hours=24),
}


def _category(value: str) -> str:
    if value not in CATEGORIES:
        raise ValueError(f"unknown category '{value}'; expected one of: {', '.join(CATEGORIES)}")
    return value


class CategoryRule(BaseModel):
    """An alert whose monitor matches ``monitor`` (a glob) and whose labels include ``labels`` belongs to
    ``category``. The first matching rule wins."""

    model_config = ConfigDict(extra="forbid")
    monitor: str = Field(default="*", min_length=1, description="Monitor name or glob ('contract-*').")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels the alert must carry.")
    category: str = Field(description="smart_contract, security, market, infrastructure, oracle, compliance.")

    @field_validator("category")
    @classmethod
    def _check(cls, value: str) -> str:
        return _category(value)

    def matches(self, monitor: str, labels: dict[str, str]) -> bool:
        return fnmatch.fnmatchcase(monitor, self.monitor) and all(
            labels.get(k) == v for k, v in self.labels.items()
        )


class AlertMatch(BaseModel):
    """An alert whose monitor matches ``monitor`` (a glob) and whose labels include ``labels``."""

    model_config = ConfigDict(extra="forbid")
    monitor: str = Field(default="*", min_length=1, description="Monitor name or glob ('contract-*').")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels the alert must carry.")

    def matches(self, monitor: str, labels: dict[str, str]) -> bool:
        return fnmatch.fnmatchcase(monitor, self.monitor) and all(
            labels.get(k) == v for k, v in self.labels.items()
        )


class CorrelationRule(BaseModel):
    """Alerts matching any of ``alerts`` share a root cause: a new one joins the open auto-declared incident
    (declared within the window) that holds another one. The rule's name is shown on the incident."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100, description="Shown on the incident's timeline.")
    description: str = Field(default="", description="Why these alerts share a root cause, for humans.")
    alerts: list[AlertMatch] = Field(min_length=2, description="Two or more alert matchers.")

    def matches(self, monitor: str, labels: dict[str, str]) -> bool:
        return any(m.matches(monitor, labels) for m in self.alerts)


def _default_rules() -> list[CategoryRule]:
    raw: list[dict[str, Any]] = [
        {
            "monitor": "contract-status",
            "labels": {"condition": "unauthorized_role_grant"},
            "category": "security",
        },
        {"monitor": "contract-status", "labels": {"condition": "trading_halted"}, "category": "market"},
        {"monitor": "contract-status", "category": "smart_contract"},
        {"monitor": "*role-granted*", "category": "security"},
        {"monitor": "commodity-oracles", "category": "oracle"},
        {"monitor": "*oracle*", "category": "oracle"},
        {"monitor": "pt-volume-anomaly", "category": "market"},
        {"monitor": "reserve-*", "category": "smart_contract"},
    ]  # fmt: skip
    return [CategoryRule.model_validate(r) for r in raw]


class AutoDeclare(BaseModel):
    """Declare incidents from alerts by policy: every new alert of ``severities`` opens an incident unless
    it has the same root cause as an open auto-declared incident declared within ``window`` (an alert of the
    same monitor, contract and condition there, or an explicit ``correlations`` rule), which it joins."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(default=True, description="Declare incidents from alerts at all.")
    severities: list[str] = Field(
        default_factory=lambda: ["P0"], min_length=1, description="New alerts of these severities declare."
    )
    window: Duration = Field(default=timedelta(hours=1), description="Join an open incident this recent.")
    categories: list[CategoryRule] = Field(
        default_factory=_default_rules, description="Alert -> category; the first matching rule wins."
    )
    default_category: str = Field(default="infrastructure", description="When no rule matches.")
    correlations: list[CorrelationRule] = Field(
        default_factory=list,
        description="Explicit root-cause rules. Without one, a new alert joins an open auto-declared "
        "incident only when that incident holds an alert of the same monitor, contract (or feed) and "
        "condition.",
    )
    collect_evidence: bool = Field(default=True, description="Collect evidence at declaration.")
    notify_groups: list[str] = Field(
        default_factory=lambda: ["technical_team", "business_team"],
        description="Stakeholder groups sent the initial notification.",
    )
    roles: dict[str, str] = Field(
        default_factory=dict,
        description="Incident role (commander, scribe, liaison, responder) -> on-call schedule of "
        "oncall.yaml whose person takes it at declaration (when that person is a user).",
    )

    @field_validator("roles")
    @classmethod
    def _roles(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [r for r in value if r not in ROLES]
        if bad:
            raise ValueError(f"unknown incident role {', '.join(bad)}; expected one of: {', '.join(ROLES)}")
        return value

    @field_validator("severities")
    @classmethod
    def _severities(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if s not in SEVERITIES]
        if bad:
            raise ValueError(f"unknown severity {', '.join(bad)}; expected P0, P1, P2 or P3")
        return value

    @field_validator("default_category")
    @classmethod
    def _cat(cls, value: str) -> str:
        return _category(value)

    @field_validator("notify_groups")
    @classmethod
    def _groups(cls, value: list[str]) -> list[str]:
        bad = [g for g in value if g not in GROUPS]
        if bad:
            raise ValueError(
                f"unknown stakeholder group {', '.join(bad)}; expected one of: {', '.join(GROUPS)}"
            )
        return value

    def category_of(self, monitor: str, labels: dict[str, str]) -> str:
        rule = next((r for r in self.categories if r.matches(monitor, labels)), None)
        return rule.category if rule is not None else self.default_category


class IncidentsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cadence: dict[str, Duration] = Field(
        default_factory=lambda: dict(_DEFAULT_CADENCE),
        description="How often stakeholders get a status update while an incident is open, per severity.",
    )
    groups: dict[str, list[str]] = Field(
        default_factory=lambda: {g: ["ops-log"] for g in GROUPS},
        description="Stakeholder group -> receivers.yaml receivers.",
    )
    reminder_receiver: str = Field(
        default="ops-log",
        description="Where an overdue-update reminder goes when the liaison has no receiver in oncall.yaml.",
    )
    tick_interval: Duration = Field(default=timedelta(seconds=15), description="Cadence/evidence tick.")
    auto_declare: AutoDeclare = Field(default_factory=AutoDeclare)
    # resolved from the neighbouring files by the loader: receiver -> channels (receivers.yaml) and
    # person -> receiver (oncall.yaml people)
    _channels: dict[str, list[str]] = PrivateAttr(default_factory=dict)
    _people: dict[str, str] = PrivateAttr(default_factory=dict)
    _oncall: OncallConfig | None = PrivateAttr(default=None)

    def with_directory(
        self, channels: dict[str, list[str]], people: dict[str, str], oncall: OncallConfig | None = None
    ) -> IncidentsConfig:
        """This config bound to the receivers' channels, the people's receivers and the on-call schedules
        (tests, loader)."""
        self._channels = dict(channels)
        self._people = dict(people)
        self._oncall = oncall
        return self

    @property
    def oncall(self) -> OncallConfig | None:
        return self._oncall

    def channels_of(self, receiver: str) -> list[str]:
        """The outbox channels of a receiver (``log`` when unknown: delivery makes it visible)."""
        return list(self._channels.get(receiver) or ["log"])

    def receiver_of_person(self, person: str) -> str | None:
        return self._people.get(person)

    @property
    def people(self) -> list[str]:
        return sorted(self._people)

    @field_validator("cadence")
    @classmethod
    def _cadence(cls, value: dict[str, timedelta]) -> dict[str, timedelta]:
        bad = [k for k in value if k not in SEVERITIES]
        if bad:
            raise ValueError(f"unknown severity {', '.join(bad)}; expected P0, P1, P2 or P3")
        for key, every in value.items():
            if every <= timedelta(0):
                raise ValueError(f"cadence of {key} must be positive")
        return {**_DEFAULT_CADENCE, **value}

    @field_validator("groups")
    @classmethod
    def _known_groups(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        bad = [g for g in value if g not in GROUPS]
        if bad:
            raise ValueError(
                f"unknown stakeholder group {', '.join(bad)}; expected one of: {', '.join(GROUPS)}"
            )
        return value

    def cadence_of(self, severity: str) -> timedelta:
        return self.cadence.get(severity, _DEFAULT_CADENCE.get(severity, timedelta(hours=24)))


def check_references(
    cfg: IncidentsConfig, *, receivers: set[str] | None, oncall: OncallConfig | None
) -> list[str]:
    """Receivers named by groups and the reminder (None: no receivers.yaml, not checked) and on-call
    schedules named by auto-declare roles (None: oncall.yaml is broken, not checked)."""
    problems = []
    if receivers is not None:
        known = ", ".join(sorted(receivers)) or "none"
        for group, names in cfg.groups.items():
            for i, name in enumerate(names):
                if name not in receivers:
                    problems.append(
                        f"{FILE}:groups.{group}.{i}: unknown receiver '{name}' (receivers.yaml has: {known})"
                    )
        if cfg.reminder_receiver not in receivers:
            problems.append(
                f"{FILE}:reminder_receiver: unknown receiver '{cfg.reminder_receiver}' "
                f"(receivers.yaml has: {known})"
            )
    if oncall is not None:
        schedules = {s.name for s in oncall.schedules}
        problems += [
            f"{FILE}:auto_declare.roles.{role}: unknown on-call schedule '{name}' "
            f"(oncall.yaml has: {', '.join(sorted(schedules)) or 'none'})"
            for role, name in cfg.auto_declare.roles.items()
            if name not in schedules
        ]
    return problems
