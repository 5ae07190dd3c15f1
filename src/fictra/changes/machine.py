"""The change state machine: one transition table, and the requirements each transition checks.

States: draft → assessment → authorization → scheduled → implementing → review → closed, plus canceled,
failed and rolled_back. A *standard* change (a pre-approved template) skips authorization; an
*emergency* change skips assessment (draft → authorization), is authorized by the emergency approval
rule and is reviewed afterwards like any other. A refused transition names every missing item at once
(:func:`missing`), e.g. "no rollback plan; risk not evaluated; approvals missing: system_architect".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["EDITABLE", "STATES", "TERMINAL", "TRANSITIONS", "Facts", "Transition", "find", "missing"]

STATES = (
    "draft",
    "assessment",
    "authorization",
    "scheduled",
    "implementing",
    "review",
    "closed",
    "canceled",
    "failed",
    "rolled_back",
)
TERMINAL = frozenset({"closed", "canceled"})
EDITABLE = frozenset({"draft", "assessment", "authorization", "scheduled"})


@dataclass(frozen=True)
class Facts:
    """What the requirements read about a change (built by the service from the row and its steps)."""

    type: str
    has_title: bool
    has_components: bool
    has_steps: bool
    has_verification: bool
    has_rollback_plan: bool
    has_slot: bool
    impact_assessed: bool
    risk_evaluated: bool
    approvals_missing: tuple[str, ...]  # roles (or "N more approval(s)") still needed; () when satisfied
    conflicts_unacknowledged: int
    steps_open: int
    verification_passed: bool | None  # None: not run
    rollback_steps_open: int
    has_review: bool


Check = Callable[[Facts], str | None]


def _need(cond: Callable[[Facts], bool], text: str) -> Check:
    return lambda f: None if cond(f) else text


NO_ROLLBACK = _need(lambda f: f.has_rollback_plan, "no rollback plan")
NO_RISK = _need(lambda f: f.risk_evaluated, "risk not evaluated")
NO_IMPACT = _need(lambda f: f.impact_assessed, "impact not assessed")
NO_STEPS = _need(lambda f: f.has_steps, "no implementation steps")
NO_VERIFY = _need(lambda f: f.has_verification, "no verification plan")
NO_SLOT = _need(lambda f: f.has_slot, "no planned start and end")
NO_COMPONENTS = _need(lambda f: f.has_components, "no affected components")
CONFLICTS_TEXT = "scheduling conflicts not acknowledged by an approver"
CONFLICTS = _need(lambda f: f.conflicts_unacknowledged == 0, CONFLICTS_TEXT)
STEPS_OPEN = _need(lambda f: f.steps_open == 0, "implementation steps not done")
VERIFIED = _need(lambda f: f.verification_passed is True, "verification not passed")
VERIFY_FAILED = _need(lambda f: f.verification_passed is False, "verification has not failed")
ROLLBACK_OPEN = _need(lambda f: f.rollback_steps_open == 0, "rollback steps not done")
REVIEW = _need(lambda f: f.has_review, "no post-implementation review")


def APPROVALS(f: Facts) -> str | None:
    if f.type == "standard" or not f.approvals_missing:
        return None
    return "approvals missing: " + ", ".join(f.approvals_missing)


CONTENT = (NO_COMPONENTS, NO_STEPS, NO_VERIFY, NO_ROLLBACK)


@dataclass(frozen=True)
class Transition:
    action: str
    source: str
    target: str
    types: tuple[str, ...]
    requires: tuple[Check, ...] = ()


ALL = ("standard", "normal", "emergency")
TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", "draft", "assessment", ("standard", "normal")),
    Transition("request_authorization", "assessment", "authorization", ("normal",),
               (*CONTENT, NO_IMPACT, NO_RISK)),
    Transition("request_authorization", "draft", "authorization", ("emergency",), (NO_STEPS, NO_ROLLBACK)),
    Transition("schedule", "assessment", "scheduled", ("standard",),
               (*CONTENT, NO_IMPACT, NO_RISK, NO_SLOT, CONFLICTS)),
    Transition("schedule", "authorization", "scheduled", ("normal", "emergency"),
               (NO_ROLLBACK, NO_SLOT, APPROVALS, CONFLICTS)),
    Transition("start", "scheduled", "implementing", ALL, (NO_ROLLBACK, APPROVALS)),
    Transition("complete", "implementing", "review", ALL, (STEPS_OPEN, VERIFIED)),
    Transition("fail", "implementing", "failed", ALL, (VERIFY_FAILED,)),
    Transition("rollback", "failed", "rolled_back", ALL, (ROLLBACK_OPEN,)),
    Transition("rollback", "implementing", "rolled_back", ALL, (ROLLBACK_OPEN,)),
    Transition("close", "review", "closed", ALL, (REVIEW,)),
    Transition("close", "rolled_back", "closed", ALL, (REVIEW,)),
    Transition("close", "failed", "closed", ALL, (REVIEW,)),
    *(Transition("cancel", s, "canceled", ALL) for s in sorted(EDITABLE)),
)  # fmt: skip


def find(action: str, *, state: str, change_type: str) -> Transition | None:
    for t in TRANSITIONS:
        if t.action == action and t.source == state and change_type in t.types:
            return t
    return None


def actions_from(state: str, change_type: str) -> list[str]:
    """The actions the table allows from ``state`` for this type (for views)."""
    return [t.action for t in TRANSITIONS if t.source == state and change_type in t.types]


def missing(transition: Transition, facts: Facts) -> list[str]:
    """Every requirement of ``transition`` that ``facts`` do not meet, in words."""
    return [text for check in transition.requires if (text := check(facts)) is not None]
