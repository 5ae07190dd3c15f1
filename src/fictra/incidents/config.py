"""config/incidents.yaml: communication cadence, stakeholder groups, templates, auto-declare policy.

Loaded like every other config file: Pydantic models with ``extra="forbid"``; :func:`load_incidents_config`
collects every problem as ``incidents.yaml:key.path: message`` (receivers named by a stakeholder group are
checked against receivers.yaml) and raises :class:`~fictra.rules.loader.ConfigProblems`.
"""

from __future__ import annotations

import fnmatch
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from fictra.incidents.phases import CATEGORIES, SEVERITIES
from fictra.response.config import OncallConfig
from fictra.rules.fields import Duration
from fictra.rules.loader import ConfigProblems, _problems, _read_yaml

__all__ = [
    "GROUPS",
    "AutoDeclare",
    "CategoryRule",
    "IncidentsConfig",
    "incidents_problems",
    "load_incidents_config",
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
    """Declare incidents from alerts by policy: every new alert of ``severities`` opens an incident, or
    joins the open auto-declared incident of the same category declared within ``window``."""

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


def _channels(config_dir: Path) -> dict[str, list[str]] | None:
    from fictra.errors import ConfigError
    from fictra.notify.config import load_receivers

    path = config_dir / "receivers.yaml"
    if not path.is_file():
        return None
    try:
        return {r.name: [c.key for c in r.channels] for r in load_receivers(path).receivers}
    except ConfigError:
        return None  # receivers.yaml reports its own problems


def _oncall(config_dir: Path) -> OncallConfig | None:
    path = config_dir / "oncall.yaml"
    if not path.is_file():
        return None
    problems: list[str] = []
    raw = _read_yaml(path, "oncall.yaml", problems)
    try:
        return OncallConfig.model_validate({} if raw is None else raw)
    except ValidationError:
        return None  # oncall.yaml reports its own problems


def check_references(cfg: IncidentsConfig, receivers: set[str] | None) -> list[str]:
    if receivers is None:
        return []
    known = ", ".join(sorted(receivers)) or "none"
    problems = []
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
    return problems


def load_incidents_config(config_dir: Path) -> IncidentsConfig:
    """``config_dir/incidents.yaml`` (defaults when absent); ConfigProblems naming every problem."""
    path = config_dir / FILE
    problems: list[str] = []
    cfg = IncidentsConfig()
    if path.is_file():
        raw = _read_yaml(path, FILE, problems)
        if problems:
            raise ConfigProblems(config_dir, problems)
        try:
            cfg = IncidentsConfig.model_validate({} if raw is None else raw)
        except ValidationError as exc:
            raise ConfigProblems(config_dir, _problems(FILE, [], exc)) from None
    channels = _channels(config_dir)
    problems = check_references(cfg, None if channels is None else set(channels))
    if problems:
        raise ConfigProblems(config_dir, problems)
    oncall = _oncall(config_dir)
    people = {name: p.receiver for name, p in oncall.people.items()} if oncall else {}
    schedules = {s.name for s in oncall.schedules} if oncall else set()
    problems = [
        f"{FILE}:auto_declare.roles.{role}: unknown on-call schedule '{name}' "
        f"(oncall.yaml has: {', '.join(sorted(schedules)) or 'none'})"
        for role, name in cfg.auto_declare.roles.items()
        if name not in schedules
    ]
    if problems:
        raise ConfigProblems(config_dir, problems)
    return cfg.with_directory(channels or {}, people, oncall)


def incidents_problems(config_dir: Path) -> list[str]:
    """Every problem of incidents.yaml (for ``fictra config check``)."""
    try:
        load_incidents_config(config_dir)
    except ConfigProblems as exc:
        return list(exc.problems)
    return []
