"""Request and response shapes of change management (API, CLI and service share them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fictra.rules.cel import CelCompileError, compile_expression

__all__ = ["ChangeInput", "Check", "ReviewInput", "StepInput"]

ChangeType = Literal["standard", "normal", "emergency"]
Category = Literal[
    "contract_upgrade",
    "protocol_parameter",
    "node_software",
    "network",
    "storage",
    "security_patch",
    "backup_procedure",
    "integration",
    "documentation",
]


class StepInput(BaseModel):
    """One implementation (or rollback) step; an on-chain step names an emergency action kind and its
    parameters, proposed from the change when the step is run."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=2000)
    action_kind: str | None = Field(default=None, max_length=64)
    action_params: dict[str, Any] | None = None


class Check(BaseModel):
    """A verification item: an automated CEL check over named chain values (``expr`` over ``values``,
    e.g. ``pt_fee_bps == 25``), or a manual sign-off (``manual: true``)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    expr: str | None = Field(default=None, max_length=2000)
    manual: bool = False

    @model_validator(mode="after")
    def _one(self) -> Check:
        if (self.expr is None) != self.manual:
            raise ValueError(f"check '{self.name}': give either 'expr' (CEL) or 'manual: true'")
        if self.expr is not None:
            try:
                compile_expression(self.expr)
            except CelCompileError as exc:
                raise ValueError(f"check '{self.name}': CEL does not compile: {exc}") from None
        return self


class ChangeInput(BaseModel):
    """The content of a change request (its hash binds the approvals)."""

    model_config = ConfigDict(extra="forbid")
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=20000)
    type: ChangeType = "normal"
    category: Category
    components: list[str] = Field(default_factory=list, max_length=100)
    implementer: str | None = Field(default=None, max_length=200)
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    steps: list[StepInput] = Field(default_factory=list, max_length=200)
    verification: list[Check] = Field(default_factory=list, max_length=100)
    rollback_plan: str | None = Field(default=None, max_length=20000)
    rollback_steps: list[StepInput] = Field(default_factory=list, max_length=200)
    notify: list[str] = Field(default_factory=list, max_length=100)
    proposal_id: int | None = None
    template: str | None = Field(default=None, max_length=128, description="A standard change's template.")

    @model_validator(mode="after")
    def _slot(self) -> ChangeInput:
        if (self.planned_start is None) != (self.planned_end is None):
            raise ValueError("give both planned_start and planned_end, or neither")
        if self.planned_start and self.planned_end and self.planned_end <= self.planned_start:
            raise ValueError("planned_end must be after planned_start")
        if self.rollback_plan is not None and not self.rollback_plan.strip():
            raise ValueError("rollback_plan is blank; omit it or describe the rollback")
        return self

    def hashed(self) -> dict[str, Any]:
        """The content the approvals are bound to."""
        return self.model_dump(mode="json")


class ReviewInput(BaseModel):
    """The post-implementation review (a change cannot close without it)."""

    model_config = ConfigDict(extra="forbid")
    success: bool
    criteria: str = Field(min_length=1, max_length=5000, description="Success criteria and whether met.")
    feedback_link: str | None = Field(default=None, max_length=2000)
    documentation_updates: str = Field(default="", max_length=5000)
    lessons_learned: str = Field(min_length=1, max_length=10000)
    metrics: list[str] = Field(default_factory=list, max_length=20, description="Series to compare.")
