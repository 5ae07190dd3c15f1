"""Loading a change with its steps and approvals, its timeline events (each audited in the caller's
transaction) and the :class:`~fictra.changes.machine.Facts` the state machine checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name, record
from fictra.auth.approvals import ApprovalRule, Verdict, evaluate
from fictra.changes.machine import Facts
from fictra.changes.models import ChangeApproval, ChangeEvent, ChangeRequest, ChangeStep
from fictra.clock import Clock
from fictra.errors import NotFoundError

__all__ = ["approvals_of", "event", "facts", "load", "rule_of", "steps_of", "verdict"]


async def load(session: AsyncSession, change_id: int, *, lock: bool = False) -> ChangeRequest:
    stmt = select(ChangeRequest).where(ChangeRequest.id == change_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"No change request with id '{change_id}'.")
    return row


async def steps_of(session: AsyncSession, change_id: int, *, phase: str | None = None) -> list[ChangeStep]:
    stmt = select(ChangeStep).where(ChangeStep.change_id == change_id)
    if phase is not None:
        stmt = stmt.where(ChangeStep.phase == phase)
    rows = (await session.execute(stmt.order_by(ChangeStep.phase, ChangeStep.position))).scalars()
    return list(rows)


async def approvals_of(session: AsyncSession, change_id: int) -> list[ChangeApproval]:
    stmt = select(ChangeApproval).where(ChangeApproval.change_id == change_id).order_by(ChangeApproval.id)
    return list((await session.execute(stmt)).scalars())


def rule_of(change: ChangeRequest) -> ApprovalRule | None:
    return ApprovalRule.from_dict(change.rule) if change.rule else None


def verdict(change: ChangeRequest, approvals: Sequence[ChangeApproval], *, clock: Clock) -> Verdict | None:
    """The approval rule checked now (None: no rule yet, or a standard change)."""
    rule = rule_of(change)
    if rule is None:
        return None
    return evaluate(rule, approvals, current_hash=change.content_hash, now=clock.now())


def _missing_approvals(change: ChangeRequest, v: Verdict | None) -> tuple[str, ...]:
    if change.type == "standard":
        return ()
    if v is None:
        return ("no approval rule (authorization not requested)",)
    if v.satisfied:
        return ()
    if v.missing_roles:
        return v.missing_roles
    return (v.missing or "approvals",)


async def facts(session: AsyncSession, change: ChangeRequest, *, clock: Clock) -> Facts:
    steps = await steps_of(session, change.id)
    implement = [s for s in steps if s.phase == "implement"]
    rollback = [s for s in steps if s.phase == "rollback"]
    v = verdict(change, await approvals_of(session, change.id), clock=clock)
    acked = set((change.conflicts_ack or {}).get("texts", []))
    unacked = sum(1 for c in change.conflicts or [] if c.get("text") not in acked)
    result = change.verification_result or {}
    return Facts(
        type=change.type,
        has_title=bool(change.title.strip()),
        has_components=bool(change.components),
        has_steps=bool(implement),
        has_verification=bool(change.verification),
        has_rollback_plan=bool(change.rollback_plan and change.rollback_plan.strip()),
        has_slot=change.planned_start is not None and change.planned_end is not None,
        impact_assessed=change.impact is not None,
        risk_evaluated=change.risk is not None,
        approvals_missing=_missing_approvals(change, v),
        conflicts_unacknowledged=unacked,
        steps_open=sum(1 for s in implement if s.done_at is None),
        verification_passed=result.get("passed") if result else None,
        rollback_steps_open=sum(1 for s in rollback if s.done_at is None),
        has_review=change.review is not None,
    )


async def event(
    session: AsyncSession,
    change: ChangeRequest,
    *,
    kind: str,
    actor: object,
    text: str,
    clock: Clock,
    details: dict[str, Any] | None = None,
    before: dict[str, Any] | None = None,
) -> None:
    """One timeline row and one audit entry (``change.<kind>``), in the caller's transaction."""
    now = clock.now()
    change.updated_at = now
    name = actor_name(actor)
    session.add(ChangeEvent(change_id=change.id, at=now, actor=name, kind=kind, text=text, details=details))
    after = {"state": change.state, "content_hash": change.content_hash, **(details or {})}
    await record(
        session, actor=actor, action=f"change.{kind}", target=f"change:{change.id}",
        before=before, after=after, clock=clock,
    )  # fmt: skip
    await session.flush()
