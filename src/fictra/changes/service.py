"""Creating, editing and moving change requests through the state machine, and approving them.

Every function takes the session explicitly and writes in the caller's transaction (timeline event and
audit entry included); a refusal raises before anything is written, naming every missing item. The
approval rule is copied onto the change when authorization is requested (type × risk from
changes.yaml), so a later config change does not move the goalposts; approvals are bound to the
change's content hash (:mod:`fictra.auth.approvals`): an edit voids them all.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name
from fictra.auth.approvals import canonical_roles, content_hash, why_invalid
from fictra.changes import machine
from fictra.changes.config import ChangesConfig
from fictra.changes.models import ChangeApproval, ChangeRequest, ChangeStep
from fictra.changes.records import approvals_of, event, facts, load, rule_of, verdict
from fictra.changes.schemas import ChangeInput, StepInput
from fictra.clock import Clock
from fictra.errors import ConflictError, PermissionDeniedError, UsageError

__all__ = ["ChangeRefused", "approve", "content_of", "create", "edit", "roles_of", "transition"]


class ChangeRefused(ConflictError):
    """A transition or approval refused; the message names every missing item (HTTP 409, exit 2)."""


def roles_of(actor: object) -> tuple[str, ...]:
    roles = getattr(actor, "roles", ())
    return canonical_roles(roles if isinstance(roles, tuple | list) else ())


def _check_components(cfg: ChangesConfig, names: list[str]) -> None:
    unknown = [n for n in names if n not in cfg.components]
    if unknown:
        known = ", ".join(sorted(cfg.components)) or "none"
        raise UsageError(
            f"Unknown component(s) {', '.join(unknown)}; the catalogue (changes.yaml) has: {known}."
        )


def _check_standard(cfg: ChangesConfig, data: ChangeInput) -> None:
    """A standard change names a pre-approved template of changes.yaml and stays inside it; the other
    types name none."""
    if data.type != "standard":
        if data.template is not None:
            raise UsageError(f"Only a standard change names a template; this one is {data.type}.")
        return
    known = ", ".join(sorted(cfg.standard)) or "none (changes.yaml has no standard templates)"
    tpl = cfg.standard.get(data.template or "")
    if tpl is None:
        what = f"template '{data.template}' is not" if data.template else "no template is"
        raise UsageError(f"A standard change is pre-approved by its template; {what} one of: {known}.")
    problems = []
    if data.category != tpl.category:
        problems.append(f"category {data.category} (the template's is {tpl.category})")
    outside = sorted(set(data.components) - set(tpl.components))
    if outside:
        problems.append(f"component(s) {', '.join(outside)} (it allows {', '.join(tpl.components)})")
    kinds = sorted(
        {s.action_kind for s in [*data.steps, *data.rollback_steps] if s.action_kind} - set(tpl.action_kinds)
    )
    if kinds:
        problems.append(
            f"on-chain step kind(s) {', '.join(kinds)} (it allows {', '.join(tpl.action_kinds) or 'none'})"
        )
    if problems:
        raise UsageError(
            f"Standard template '{data.template}' does not cover: {'; '.join(problems)}. Make it a normal "
            "change (assessed and authorized) or use a template that covers it."
        )


def _check_steps(steps: list[StepInput], where: str) -> None:
    for i, step in enumerate(steps, start=1):
        if (step.action_kind is None) != (step.action_params is None):
            raise UsageError(f"{where} step {i}: give both action_kind and action_params, or neither.")


def _steps(change_id: int, data: ChangeInput) -> list[ChangeStep]:
    out = []
    for phase, items in (("implement", data.steps), ("rollback", data.rollback_steps)):
        for pos, s in enumerate(items):
            out.append(
                ChangeStep(
                    change_id=change_id, phase=phase, position=pos, text=s.text,
                    action_kind=s.action_kind, action_params=s.action_params,
                )
            )  # fmt: skip
    return out


async def content_of(session: AsyncSession, change: ChangeRequest) -> ChangeInput:
    """The change's current content as an input model (what its hash covers)."""
    from fictra.changes.records import steps_of

    steps = await steps_of(session, change.id)

    def pick(phase: str) -> list[StepInput]:
        return [
            StepInput(text=s.text, action_kind=s.action_kind, action_params=s.action_params)
            for s in steps
            if s.phase == phase
        ]

    return ChangeInput.model_validate(
        {
            "title": change.title, "description": change.description, "type": change.type,
            "category": change.category, "components": change.components,
            "implementer": change.implementer, "planned_start": change.planned_start,
            "planned_end": change.planned_end, "steps": pick("implement"),
            "verification": change.verification, "rollback_plan": change.rollback_plan,
            "rollback_steps": pick("rollback"), "notify": change.notify, "proposal_id": change.proposal_id,
            "template": change.template,
        }
    )  # fmt: skip


def _apply(change: ChangeRequest, data: ChangeInput) -> None:
    change.title, change.description = data.title, data.description
    change.type, change.category = data.type, data.category
    change.components = list(data.components)
    change.implementer = data.implementer
    change.planned_start, change.planned_end = data.planned_start, data.planned_end
    change.verification = [c.model_dump(mode="json") for c in data.verification]
    change.rollback_plan = data.rollback_plan
    change.notify = list(data.notify)
    change.proposal_id = data.proposal_id
    change.template = data.template
    change.content_hash = content_hash(data.hashed())


async def create(
    session: AsyncSession, *, cfg: ChangesConfig, data: ChangeInput, actor: object, clock: Clock
) -> ChangeRequest:
    """A new change request in ``draft``."""
    _check_components(cfg, data.components)
    _check_standard(cfg, data)
    _check_steps(data.steps, "implementation")
    _check_steps(data.rollback_steps, "rollback")
    now = clock.now()
    change = ChangeRequest(
        requester=actor_name(actor), state="draft", created_at=now, updated_at=now, content_hash=""
    )
    _apply(change, data)
    session.add(change)
    await session.flush()
    session.add_all(_steps(change.id, data))
    await event(
        session, change, kind="created", actor=actor, clock=clock,
        text=f"{change.requester} requested a {data.type} change: {data.title}",
        details={"type": data.type, "category": data.category, "components": data.components},
    )  # fmt: skip
    return change


async def edit(
    session: AsyncSession,
    *,
    cfg: ChangesConfig,
    change_id: int,
    data: ChangeInput,
    actor: object,
    clock: Clock,
) -> ChangeRequest:
    """Replace the content of an open change. A new content hash voids every approval; a scheduled
    change goes back to authorization (standard: assessment), its conflicts to be checked again."""
    change = await load(session, change_id, lock=True)
    if change.state not in machine.EDITABLE:
        raise ConflictError(
            f"Change {change_id} is {change.state}; only a change in "
            f"{', '.join(sorted(machine.EDITABLE))} can be edited."
        )
    if data.type != change.type and change.state != "draft":
        raise UsageError(f"Change {change_id}'s type can change only in draft (it is {change.state}).")
    _check_components(cfg, data.components)
    _check_standard(cfg, data)
    _check_steps(data.steps, "implementation")
    _check_steps(data.rollback_steps, "rollback")
    old_hash, old_state = change.content_hash, change.state
    _apply(change, data)
    if change.content_hash == old_hash:
        raise UsageError(f"Change {change_id} already has this content; nothing to edit.")
    await session.execute(delete(ChangeStep).where(ChangeStep.change_id == change.id))
    session.add_all(_steps(change.id, data))
    if change.state == "scheduled":
        change.state = "assessment" if change.type == "standard" else "authorization"
    change.conflicts, change.conflicts_ack = None, None
    voided = [a.approver for a in await approvals_of(session, change.id) if a.params_hash == old_hash]
    await event(
        session, change, kind="edited", actor=actor, clock=clock,
        text=f"{actor_name(actor)} edited the change ({old_hash[:12]} -> {change.content_hash[:12]})"
        + (f"; approvals voided: {', '.join(voided)}" if voided else ""),
        details={"previous_hash": old_hash, "voided": voided},
        before={"state": old_state, "content_hash": old_hash},
    )  # fmt: skip
    return change


async def transition(
    session: AsyncSession,
    *,
    cfg: ChangesConfig,
    change_id: int,
    action: str,
    actor: object,
    clock: Clock,
    reason: str | None = None,
) -> ChangeRequest:
    """Apply ``action`` (submit, request_authorization, schedule, start, complete, fail, rollback,
    close, cancel) if the table allows it from the current state and every requirement holds."""
    change = await load(session, change_id, lock=True)
    found = machine.find(action, state=change.state, change_type=change.type)
    if found is None:
        allowed = machine.actions_from(change.state, change.type)
        raise ChangeRefused(
            f"Change {change_id} ({change.type}) is {change.state}: '{action}' is not possible; "
            f"possible: {', '.join(allowed) or 'nothing (final state)'}."
        )
    gaps = machine.missing(found, await facts(session, change, clock=clock))
    if gaps:
        raise ChangeRefused(f"Change {change_id} cannot {action.replace('_', ' ')}: {'; '.join(gaps)}.")
    if found.action == "request_authorization":
        rule = cfg.rule(change.type, (change.risk or {}).get("level") or "high")
        change.rule = rule.as_dict() if rule is not None else None
    before = change.state
    change.state = found.target
    await event(
        session, change, kind=action, actor=actor, clock=clock,
        text=f"{actor_name(actor)}: {before} -> {found.target}" + (f" ({reason})" if reason else ""),
        details={"from": before, "to": found.target, "reason": reason, "rule": change.rule},
        before={"state": before},
    )  # fmt: skip
    return change


async def approve(
    session: AsyncSession, *, change_id: int, content_hash: str, actor: object, clock: Clock
) -> ChangeRequest:
    """Approve the change's content as the approver saw it (``content_hash``). Refused: not awaiting
    authorization, content changed since, a role the rule does not take, the requester, or a second
    valid approval by the same person."""
    change = await load(session, change_id, lock=True)
    name, roles = actor_name(actor), roles_of(actor)
    rule = rule_of(change)
    if change.state != "authorization" or rule is None:
        raise ChangeRefused(f"Change {change_id} is {change.state}; it takes approvals in authorization.")
    if content_hash != change.content_hash:
        raise ChangeRefused(
            f"Change {change_id}'s content changed: you approved {content_hash[:12]} but it is now "
            f"{change.content_hash[:12]}. Review the current content and approve that."
        )
    eligible = set(roles) & set(rule.roles)
    if not eligible:
        raise PermissionDeniedError(
            f"'{name}' cannot approve change {change_id}: it needs a {' or '.join(rule.roles)}; "
            f"{name}'s roles are {', '.join(roles) or 'none'}."
        )
    if name == change.requester and not rule.proposer_counts:
        raise ChangeRefused(f"'{name}' requested change {change_id}; the requester cannot approve it.")
    now = clock.now()
    approvals = await approvals_of(session, change.id)
    for a in approvals:
        if a.approver == name and why_invalid(a, current_hash=change.content_hash, now=now) is None:
            raise ChangeRefused(
                f"'{name}' already approved change {change_id} at {a.approved_at.isoformat()}; "
                f"the rule needs distinct people: {rule.describe()}."
            )
    row = ChangeApproval(
        change_id=change.id, approver=name, roles=sorted(eligible), params_hash=change.content_hash,
        approved_at=now, expires_at=now + rule.ttl, via="person",
    )  # fmt: skip
    session.add(row)
    await session.flush()
    v = verdict(change, [*approvals, row], clock=clock)
    details: dict[str, Any] = {
        "roles": sorted(eligible),
        "content_hash": change.content_hash,
        "expires_at": row.expires_at.isoformat(),
        "satisfied": bool(v and v.satisfied),
    }
    await event(
        session, change, kind="approved", actor=actor, clock=clock,
        text=f"{name} approved as {', '.join(sorted(eligible))}"
        + ("; the rule is satisfied" if v and v.satisfied else f"; still needed: {v.missing if v else '?'}"),
        details=details,
    )  # fmt: skip
    return change
