"""config/changes.yaml: the component catalogue, risk questionnaire and scoring, approval rules by type
and risk, allowed weekly windows and freeze periods.

A section of the config set (:mod:`fictra.platform.config_set`). Every key has a default except the
catalogue, which is empty by default (a change then names no component). :func:`check_references` checks
the catalogue against the deployment manifest (contracts) and network.yaml (endpoints); it reads no file.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from typing import Literal

from dateutil.rrule import rrulestr  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fictra.auth.approvals import ApprovalRule
from fictra.config.fields import Duration

__all__ = [
    "CATEGORIES",
    "FILE",
    "RISKS",
    "TYPES",
    "ChangesConfig",
    "Component",
    "Freeze",
    "Question",
    "RuleConfig",
    "Scoring",
    "Window",
    "check_references",
]

FILE = "changes.yaml"
TYPES = ("standard", "normal", "emergency")
RISKS = ("low", "medium", "high", "critical")
CATEGORIES = (
    "contract_upgrade",
    "protocol_parameter",
    "node_software",
    "network",
    "storage",
    "security_patch",
    "backup_procedure",
    "integration",
    "documentation",
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Criticality = Literal["low", "medium", "high", "critical"]
Risk = Literal["low", "medium", "high", "critical"]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_:.\-]{0,127}$")


class Component(BaseModel):
    """One entry of the catalogue: a manifest contract, an RPC endpoint, a platform component or an
    integration, with its criticality and the components it depends on."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["contract", "endpoint", "platform", "integration"]
    criticality: Criticality = "medium"
    depends_on: list[str] = Field(default_factory=list)
    description: str = ""


class Question(BaseModel):
    """A yes/no question of the risk questionnaire; a yes raises the risk to at least ``if_yes``."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    text: str = Field(min_length=1, max_length=500)
    if_yes: Risk


class Scoring(BaseModel):
    """The computed score: points for the highest criticality touched, the change type, each failed or
    rolled-back change on the same components within ``failed_lookback``, and a slot outside every
    allowed window; the level is the highest threshold reached."""

    model_config = ConfigDict(extra="forbid")
    criticality: dict[str, int] = Field(
        default_factory=lambda: {"low": 0, "medium": 1, "high": 2, "critical": 3}
    )
    type: dict[str, int] = Field(default_factory=lambda: {"standard": 0, "normal": 1, "emergency": 2})
    failed_change: int = Field(default=1, ge=0, description="Points per recent failed change (max 2).")
    failed_lookback: Duration = Field(default=timedelta(days=30))
    outside_window: int = Field(default=1, ge=0)
    medium_at: int = 2
    high_at: int = 4
    critical_at: int = 6


class RuleConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[str] = Field(min_length=1, description="Every role listed must approve (one person each).")
    count: int | None = Field(default=None, ge=1, description="Distinct people; default: len(roles).")
    ttl: Duration = Field(default=timedelta(days=7), description="How long an approval counts.")

    def rule(self) -> ApprovalRule:
        return ApprovalRule(
            count=self.count or len(self.roles),
            roles=tuple(self.roles),
            must_include=tuple(self.roles),
            ttl=self.ttl,
            proposer_counts=False,
        )


class Window(BaseModel):
    """A weekly window (UTC) in which changes may run, e.g. tue-thu 06:00-10:00."""

    model_config = ConfigDict(extra="forbid")
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(min_length=1)
    start: time
    end: time

    @model_validator(mode="after")
    def _order(self) -> Window:
        if self.end <= self.start:
            raise ValueError("end must be after start (windows do not cross midnight)")
        return self


class Freeze(BaseModel):
    """A recurring freeze (RFC 5545 RRULE with DTSTART, UTC) lasting ``duration`` from each start."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    rrule: str = Field(description="e.g. 'DTSTART:20250101T000000Z\\nRRULE:FREQ=MONTHLY;BYMONTHDAY=-1'")
    duration: Duration

    @field_validator("rrule")
    @classmethod
    def _parse(cls, value: str) -> str:
        try:
            rrulestr(value, forceset=True)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not a valid RRULE: {exc}") from None
        return value


def _default_rules() -> dict[str, dict[str, RuleConfig]]:
    tl, sa, om, so = "technical_lead", "system_architect", "operations_manager", "security_officer"
    return {
        "normal": {
            "low": RuleConfig(roles=[tl]),
            "medium": RuleConfig(roles=[tl, sa]),
            "high": RuleConfig(roles=[tl, sa, om]),
            "critical": RuleConfig(roles=[tl, sa, om, so]),
        },
        "emergency": {r: RuleConfig(roles=[om], ttl=timedelta(hours=4)) for r in RISKS},
    }


class StandardTemplate(BaseModel):
    """A pre-approved standard change: a standard change names one (``template``) and stays inside it —
    its category, a subset of its components, on-chain steps only of its action kinds. No authorization."""

    model_config = ConfigDict(extra="forbid")
    description: str = Field(default="", max_length=2000)
    category: str = Field(description="One of the change categories.")
    components: list[str] = Field(min_length=1, description="The catalogue components it may touch.")
    action_kinds: list[str] = Field(default_factory=list, description="On-chain step kinds it may use.")


def _default_questions() -> list[Question]:
    return [
        Question(id="touches_funds", text="Can the change move or lock user funds?", if_yes="high"),
        Question(id="irreversible", text="Is the change irreversible on chain?", if_yes="critical"),
        Question(id="untested", text="Was it not tested on a devnet or staging first?", if_yes="medium"),
    ]


class ChangesConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    components: dict[str, Component] = Field(default_factory=dict)
    questions: list[Question] = Field(default_factory=_default_questions)
    scoring: Scoring = Field(default_factory=Scoring)
    approvals: dict[str, dict[str, RuleConfig]] = Field(
        default_factory=_default_rules,
        description="type (normal, emergency) -> risk (low..critical) -> rule. Standard changes need none.",
    )
    windows: list[Window] = Field(default_factory=list, description="Allowed weekly windows; none: any.")
    freezes: list[Freeze] = Field(default_factory=list)
    default_slot: Duration = Field(default=timedelta(hours=2))
    standard: dict[str, StandardTemplate] = Field(
        default_factory=dict, description="Pre-approved standard changes by name; none: no standard change."
    )

    @model_validator(mode="after")
    def _check(self) -> ChangesConfig:
        problems: list[str] = []
        for name, comp in self.components.items():
            if not _NAME.match(name):
                problems.append(f"components.{name}: not a valid name")
            for dep in comp.depends_on:
                if dep not in self.components:
                    problems.append(f"components.{name}.depends_on: unknown component '{dep}'")
        for kind in ("normal", "emergency"):
            missing = [r for r in RISKS if r not in self.approvals.get(kind, {})]
            if missing:
                problems.append(f"approvals.{kind}: no rule for risk {', '.join(missing)}")
        unknown = sorted(set(self.approvals) - {"normal", "emergency"})
        if unknown:
            problems.append(f"approvals: unknown type(s) {', '.join(unknown)} (standard needs none)")
        for name, tpl in self.standard.items():
            if not _NAME.match(name):
                problems.append(f"standard.{name}: not a valid name")
            if tpl.category not in CATEGORIES:
                problems.append(
                    f"standard.{name}.category: '{tpl.category}' is not one of {', '.join(CATEGORIES)}"
                )
            for comp_name in tpl.components:
                if comp_name not in self.components:
                    problems.append(f"standard.{name}.components: unknown component '{comp_name}'")
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            problems.append("questions: an id is listed more than once")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def rule(self, change_type: str, risk: str) -> ApprovalRule | None:
        """The approval rule of a change (None: a standard change, pre-approved)."""
        if change_type == "standard":
            return None
        return self.approvals[change_type][risk].rule()


def check_references(
    cfg: ChangesConfig,
    *,
    contracts: list[str] | None,
    endpoints: list[str] | None,
    roles: list[str] | None,
    notes: list[str] | None = None,
) -> list[str]:
    """Catalogue contracts exist in the manifest, approval roles in roles.yaml (None: that source is
    absent, not checked). An endpoint component that names no endpoint of network.yaml is a note, not a
    problem: the catalogue still tracks it by name (a deployment may name its endpoints differently)."""
    out: list[str] = []
    for name, comp in cfg.components.items():
        if comp.kind == "contract" and contracts is not None and name not in contracts:
            out.append(f"{FILE}:components.{name}: no contract '{name}' in the deployment manifest")
        if comp.kind == "endpoint" and endpoints is not None and name not in endpoints and notes is not None:
            notes.append(
                f"{FILE}:components.{name}: no RPC endpoint '{name}' in network.yaml (tracked by name)"
            )
    if roles is not None:
        for kind, by_risk in cfg.approvals.items():
            for risk, rule in by_risk.items():
                for role in rule.roles:
                    if role not in roles:
                        out.append(f"{FILE}:approvals.{kind}.{risk}.roles: unknown role '{role}'")
    return out
