"""config/procedures.yaml: the routine procedures, their schedules, owners and steps.

A section of the config set (:mod:`fictra.platform.config_set`): Pydantic models with ``extra="forbid"``;
:func:`check_references` checks owners and sign-off roles against roles.yaml and the on-call schedules,
and check names against the registry of :mod:`fictra.procedures.checks` (this module reads no file).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fictra.alerting.findings import Severity
from fictra.config.fields import Duration

__all__ = [
    "FILE",
    "AutomatedStep",
    "ManualStep",
    "Procedure",
    "ProceduresConfig",
    "ReportStep",
    "Step",
    "check_references",
]

FILE = "procedures.yaml"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _name(value: str, what: str) -> str:
    if not NAME.match(value):
        raise ValueError(f"{what} '{value}' is not valid: use 1-64 lowercase letters, digits, '_' and '-'")
    return value


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="Step name, unique within the procedure.")
    title: str = Field(min_length=1, max_length=300, description="What the step is, for people.")

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _name(value, "step name")


class AutomatedStep(_Step):
    """A check from the registry; its result and data are recorded as evidence. A failure raises
    ``alert_severity`` through the alert pipeline (monitor ``procedure:<procedure>``)."""

    kind: Literal["automated"] = "automated"
    check: str = Field(description="Name of a check of fictra.procedures.checks (CHECKS).")
    params: dict[str, Any] = Field(default_factory=dict, description="The check's parameters.")
    alert_severity: Severity = Field(default=Severity.P2, description="Severity raised when it fails.")


class ManualStep(_Step):
    """An instruction signed off by someone holding one of ``signoff_roles`` (with a note)."""

    kind: Literal["manual"] = "manual"
    instruction: str = Field(min_length=1, description="What the person does before signing off.")
    signoff_roles: list[str] = Field(min_length=1, description="Roles (roles.yaml) that may sign off.")
    agenda: list[str] = Field(default_factory=list, description="Agenda items (meetings).")


class ReportStep(_Step):
    """A document rendered from a check's data (the check runs like an automated step; a report
    never fails the run, it records what it counted)."""

    kind: Literal["report"] = "report"
    check: str = Field(description="Name of the check whose data the report renders.")
    params: dict[str, Any] = Field(default_factory=dict, description="The check's parameters.")


Step = Annotated[AutomatedStep | ManualStep | ReportStep, Field(discriminator="kind")]


class Procedure(BaseModel):
    """One routine procedure: a cron schedule in a time zone, a grace period, an owner, ordered steps."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="Procedure name (lowercase, unique).")
    title: str = Field(min_length=1, max_length=300)
    schedule: str = Field(description="Five-field cron expression, e.g. '0 8 * * *'.")
    tz: str = Field(default="UTC", description="IANA time zone the schedule is evaluated in.")
    grace: Duration = Field(default=timedelta(hours=4), description="Time after the due time to complete.")
    owner: str = Field(description="A role of roles.yaml or an on-call schedule of oncall.yaml.")
    missed_severity: Severity = Field(default=Severity.P2, description="Severity of the missed-run alert.")
    steps: list[Step] = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def _check_name(cls, value: str) -> str:
        return _name(value, "procedure name")

    @field_validator("schedule")
    @classmethod
    def _check_schedule(cls, value: str) -> str:
        if not croniter.is_valid(value) or len(value.split()) != 5:
            raise ValueError(f"'{value}' is not a five-field cron expression")
        return value

    @field_validator("tz")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a known IANA time zone") from None
        return value

    @field_validator("grace")
    @classmethod
    def _check_grace(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("the grace period must be positive")
        return value

    @model_validator(mode="after")
    def _unique_steps(self) -> Procedure:
        names = [s.name for s in self.steps]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate step names: {', '.join(dupes)}")
        return self

    def step(self, name: str) -> AutomatedStep | ManualStep | ReportStep | None:
        return next((s for s in self.steps if s.name == name), None)


class ProceduresConfig(BaseModel):
    """The procedures file: a list of procedures (none when the file is absent)."""

    model_config = ConfigDict(extra="forbid")
    procedures: list[Procedure] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> ProceduresConfig:
        names = [p.name for p in self.procedures]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate procedure names: {', '.join(dupes)}")
        return self

    def get(self, name: str) -> Procedure | None:
        return next((p for p in self.procedures if p.name == name), None)


def check_references(
    config: ProceduresConfig,
    *,
    roles: Collection[str] | None,
    schedules: Collection[str] | None,
    checks: Collection[str],
) -> list[str]:
    """Problems as ``procedures.yaml:procedures.<i>...: message``: an owner that is neither a role nor an
    on-call schedule, a sign-off role not in roles.yaml, a check name not in the registry. ``roles`` /
    ``schedules`` None: not checked (the section is broken or absent)."""
    problems: list[str] = []
    for i, proc in enumerate(config.procedures):
        where = f"{FILE}:procedures.{i}"
        if (
            roles is not None
            and schedules is not None
            and proc.owner not in roles
            and proc.owner not in schedules
        ):
            problems.append(
                f"{where}.owner: '{proc.owner}' is neither a role of roles.yaml nor an on-call schedule "
                f"of oncall.yaml"
            )
        for j, step in enumerate(proc.steps):
            if isinstance(step, ManualStep) and roles is not None:
                for k, role in enumerate(step.signoff_roles):
                    if role not in roles:
                        problems.append(
                            f"{where}.steps.{j}.signoff_roles.{k}: unknown role '{role}'; roles.yaml has: "
                            f"{', '.join(sorted(roles))}"
                        )
            if isinstance(step, AutomatedStep | ReportStep) and step.check not in checks:
                problems.append(
                    f"{where}.steps.{j}.check: unknown check '{step.check}'; "
                    f"known: {', '.join(sorted(checks))}"
                )
    return problems
