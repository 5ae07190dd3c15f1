"""The transition table alone: what each type may do, and refusals naming every missing item."""

from __future__ import annotations

from dataclasses import replace

from fictra.changes import machine

READY = machine.Facts(
    type="normal", has_title=True, has_components=True, has_steps=True, has_verification=True,
    has_rollback_plan=True, has_slot=True, impact_assessed=True, risk_evaluated=True,
    approvals_missing=(), conflicts_unacknowledged=0, steps_open=0, verification_passed=True,
    rollback_steps_open=0, has_review=True,
)  # fmt: skip


def test_each_type_follows_its_own_path() -> None:
    assert machine.find("submit", state="draft", change_type="normal").target == "assessment"  # type: ignore[union-attr]
    # standard: pre-approved, no authorization step
    t = machine.find("schedule", state="assessment", change_type="standard")
    assert t is not None and t.target == "scheduled"
    assert machine.find("request_authorization", state="assessment", change_type="standard") is None
    # emergency: skips assessment
    assert machine.find("submit", state="draft", change_type="emergency") is None
    t = machine.find("request_authorization", state="draft", change_type="emergency")
    assert t is not None and t.target == "authorization"
    # normal cannot skip authorization
    assert machine.find("schedule", state="assessment", change_type="normal") is None
    assert set(machine.actions_from("closed", "normal")) == set()


def test_refusal_names_every_missing_item() -> None:
    t = machine.find("request_authorization", state="assessment", change_type="normal")
    assert t is not None
    gaps = machine.missing(t, replace(READY, has_rollback_plan=False, risk_evaluated=False))
    assert gaps == ["no rollback plan", "risk not evaluated"]
    s = machine.find("schedule", state="authorization", change_type="normal")
    assert s is not None
    gaps = machine.missing(
        s, replace(READY, approvals_missing=("system_architect",), conflicts_unacknowledged=1)
    )
    assert gaps == [
        "approvals missing: system_architect",
        "scheduling conflicts not acknowledged by an approver",
    ]
    assert machine.missing(s, READY) == []


def test_close_needs_review_and_standard_needs_no_approval() -> None:
    c = machine.find("close", state="review", change_type="normal")
    assert c is not None
    assert machine.missing(c, replace(READY, has_review=False)) == ["no post-implementation review"]
    start = machine.find("start", state="scheduled", change_type="standard")
    assert start is not None
    assert machine.missing(start, replace(READY, type="standard", approvals_missing=("x",))) == []
