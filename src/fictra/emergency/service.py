"""Proposing, amending, approving and cancelling emergency actions (reading them back:
:mod:`fictra.emergency.queries`, re-exported here; executing them: :mod:`fictra.emergency.runner`).

Proposing or amending a kind needs the permission the kind declares (``policies.manage`` for the policy
kinds, ``actions.propose`` otherwise) and one of its proposer roles — whichever route the request came
through. Every change writes an ``action_events`` row (the action's timeline) and an audit entry in the
caller's transaction. Execution (dry run, signing, tracking) is :class:`fictra.emergency.runner.ActionRunner`.

The approval rule in force is copied onto the action when it is proposed (``config/emergency.yaml`` may
override a kind's default): a later config change does not move the goalposts of an open action.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert
from fictra.audit.service import actor_name
from fictra.clock import Clock
from fictra.emergency.approvals import (
    ApprovalError,
    canonical_roles,
    evaluate,
    why_invalid,
)
from fictra.emergency.approvals import (
    params_hash as hash_params,
)
from fictra.emergency.definitions import ApprovalRule, Definition, definition, validate_params
from fictra.emergency.events import OnEvent, add_event
from fictra.emergency.models import ActionApproval, EmergencyAction
from fictra.emergency.queries import (
    approvals_of,
    dry_run_view,
    events_for_incident,
    get_action,
    last_amend,
    latest_dry_run,
    list_actions,
    load_action,
    require_approved,
    rule_of,
)
from fictra.emergency.types import ActionView
from fictra.errors import ConflictError, NotFoundError, PermissionDeniedError, UsageError

__all__ = [
    "OPEN",
    "OnEvent",
    "add_event",
    "amend",
    "approve",
    "cancel",
    "dry_run_view",
    "events_for_incident",
    "get_action",
    "latest_dry_run",
    "link_incident",
    "list_actions",
    "load_action",
    "may_propose",
    "propose",
    "require_approved",
    "rule_of",
]

OPEN = frozenset({"proposed", "approved"})


def _roles_of(actor: object) -> tuple[str, ...]:
    roles = getattr(actor, "roles", ())
    return canonical_roles(roles if isinstance(roles, tuple | list) else ())


def may_propose(actor: object, defn: Definition, *, verb: str = "propose") -> None:
    """The one authorization decision for proposing (or amending) a kind, whatever the route: the
    actor holds the kind's permission (roles.yaml) and one of its proposer roles."""
    name, roles = actor_name(actor), _roles_of(actor)
    can = getattr(actor, "can", None)
    if not (callable(can) and can(defn.permission)):
        raise PermissionDeniedError(
            f"'{name}' may not {verb} '{defn.kind}': it needs the permission '{defn.permission}' "
            f"(roles: {', '.join(roles) or 'none'})."
        )
    if not set(roles) & set(defn.proposers):
        raise PermissionDeniedError(
            f"'{name}' (roles: {', '.join(roles) or 'none'}) may not {verb} '{defn.kind}'; "
            f"proposers are: {', '.join(defn.proposers)}."
        )


async def _refresh_status(session: AsyncSession, action: EmergencyAction, *, clock: Clock) -> None:
    if action.status not in OPEN:
        return
    verdict = evaluate(
        rule_of(action),
        await approvals_of(session, action.id),
        current_hash=action.params_hash,
        now=clock.now(),
    )
    action.status = "approved" if verdict.satisfied else "proposed"


async def _add_approval(
    session: AsyncSession,
    action: EmergencyAction,
    *,
    approver: str,
    roles: tuple[str, ...],
    via: str,
    clock: Clock,
    on_event: OnEvent | None,
) -> None:
    now = clock.now()
    rule = rule_of(action)
    row = ActionApproval(
        action_id=action.id,
        approver=approver,
        roles=list(roles),
        params_hash=action.params_hash,
        approved_at=now,
        expires_at=now + rule.ttl,
        via=via,
    )
    session.add(row)
    await session.flush()
    before = action.status
    await _refresh_status(session, action, clock=clock)
    await add_event(
        session,
        action,
        kind="approved",
        actor=approver,
        text=f"{approver} approved {action.kind} (params {action.params_hash[:12]}"
        + (f", via {via}" if via != "person" else "")
        + f"); status {action.status}",
        clock=clock,
        details={
            "approval_id": row.id,
            "params_hash": action.params_hash,
            "roles": list(roles),
            "via": via,
            "expires_at": row.expires_at.isoformat(),
        },
        before={"status": before},
        on_event=on_event,
    )


async def propose(
    session: AsyncSession,
    *,
    kind: str,
    params: dict[str, Any],
    actor: object,
    clock: Clock,
    incident_id: int | None = None,
    reason: str | None = None,
    trigger_alert_id: int | None = None,
    rules: Mapping[str, ApprovalRule] | None = None,
    policy: str | None = None,
    on_event: OnEvent | None = None,
) -> ActionView:
    """Record a proposed action. ``rules`` are config overrides of approval rules (by kind). With
    ``policy`` (an enabled automatic-response policy; the caller checked it), the action is approved by
    the policy at once. When the kind's rule lets the proposer's approval count and the proposer holds
    an eligible role, proposing records their approval too (speed first)."""
    defn = definition(kind, dict(rules) if rules else None)
    clean = validate_params(defn, params)
    name = actor_name(actor)
    roles = _roles_of(actor)
    if policy is None:
        may_propose(actor, defn)
    trigger_at: datetime | None = None
    if trigger_alert_id is not None:
        alert = await session.get(Alert, trigger_alert_id)
        if alert is None:
            raise NotFoundError(f"No alert with id '{trigger_alert_id}' (trigger_alert_id).")
        trigger_at = alert.fired_at
    if reason is not None and len(reason) > 4000:
        raise UsageError("'reason' is longer than 4000 characters; shorten it.")
    now = clock.now()
    action = EmergencyAction(
        kind=kind,
        params=clean,
        params_hash=hash_params(kind, clean),
        rule=defn.rule.as_dict(),
        status="proposed",
        proposed_by=name,
        proposed_at=now,
        reason=reason,
        incident_id=incident_id,
        trigger_alert_id=trigger_alert_id,
        trigger_at=trigger_at,
        policy=policy,
        updated_at=now,
    )
    session.add(action)
    await session.flush()
    await add_event(
        session,
        action,
        kind="proposed",
        actor=name,
        text=f"{name} proposed {kind}: {defn.title}" + (f" ({reason})" if reason else ""),
        clock=clock,
        details={
            "params": clean,
            "params_hash": action.params_hash,
            "incident_id": incident_id,
            "trigger_alert_id": trigger_alert_id,
            "policy": policy,
            "rule": defn.rule.describe(),
        },
        on_event=on_event,
    )
    if policy is not None:
        await _add_approval(
            session, action, approver=f"policy:{policy}", roles=(), via=f"policy:{policy}",
            clock=clock, on_event=on_event,
        )  # fmt: skip
    elif defn.rule.proposer_counts and set(roles) & set(defn.rule.roles):
        await _add_approval(
            session, action, approver=name, roles=roles, via="person", clock=clock, on_event=on_event
        )
    return await get_action(session, action.id, clock=clock)


async def approve(
    session: AsyncSession,
    *,
    action_id: int,
    actor: object,
    clock: Clock,
    params_hash: str,
    on_event: OnEvent | None = None,
) -> ActionView:
    """Approve the action's parameters as they are (``params_hash`` is what the approver saw). Refused
    with :class:`ApprovalError`: the parameters changed since, a role the rule does not accept, the
    proposer when their approval does not count, or a second valid approval by the same person."""
    action = await load_action(session, action_id, lock=True)
    name = actor_name(actor)
    if action.status not in OPEN:
        raise ConflictError(
            f"Action {action_id} is {action.status}; approvals are taken only while it is proposed "
            "or approved."
        )
    if params_hash != action.params_hash:
        changed = await last_amend(session, action.id)
        who = f" (changed by {changed.actor} at {changed.at.isoformat()})" if changed else ""
        raise ApprovalError(
            f"Action {action_id}'s parameters changed: you approved hash {params_hash[:12]} but they are "
            f"now {action.params_hash[:12]}{who}. Review the current parameters and approve those."
        )
    rule = rule_of(action)
    roles = _roles_of(actor)
    eligible = set(roles) & set(rule.roles)
    if not eligible:
        raise ApprovalError(
            f"'{name}' cannot approve {action.kind} (action {action_id}): it needs a "
            f"{' or '.join(rule.roles)}; {name}'s roles are {', '.join(roles) or 'none'}."
        )
    if name == action.proposed_by and not rule.proposer_counts:
        raise ApprovalError(
            f"'{name}' proposed action {action_id}; for {action.kind} the proposer's own approval does "
            f"not count. Ask another {' or '.join(rule.roles)}."
        )
    now = clock.now()
    for earlier in await approvals_of(session, action.id):
        if (
            earlier.approver == name
            and why_invalid(earlier, current_hash=action.params_hash, now=now) is None
        ):
            raise ApprovalError(
                f"'{name}' already approved action {action_id} at {earlier.approved_at.isoformat()} "
                f"(approval #{earlier.id}); the rule needs distinct people: {rule.describe()}."
            )
    await _add_approval(
        session, action, approver=name, roles=roles, via="person", clock=clock, on_event=on_event
    )
    return await get_action(session, action.id, clock=clock)


async def amend(
    session: AsyncSession,
    *,
    action_id: int,
    params: dict[str, Any],
    actor: object,
    clock: Clock,
    reason: str | None = None,
    on_event: OnEvent | None = None,
) -> ActionView:
    """Change the parameters of an open action. The hash changes, so every earlier approval (and dry
    run) stops counting: everyone approves again."""
    action = await load_action(session, action_id, lock=True)
    name = actor_name(actor)
    if action.status not in OPEN:
        raise ConflictError(
            f"Action {action_id} is {action.status}; only a proposed or approved action can be amended."
        )
    defn = definition(action.kind)
    may_propose(actor, defn, verb="amend")
    clean = validate_params(defn, params)
    new_hash = hash_params(action.kind, clean)
    if new_hash == action.params_hash:
        raise UsageError(
            f"Action {action_id} already has these parameters (hash {new_hash[:12]}); nothing to amend."
        )
    old_hash = action.params_hash
    old: dict[str, Any] = {"params": action.params, "params_hash": old_hash, "status": action.status}
    action.params = clean
    action.params_hash = new_hash
    action.status = "proposed"
    await _refresh_status(session, action, clock=clock)
    await add_event(
        session,
        action,
        kind="amended",
        actor=name,
        text=f"{name} changed the parameters ({old_hash[:12]} -> {new_hash[:12]}); earlier "
        "approvals no longer count" + (f": {reason}" if reason else ""),
        clock=clock,
        details={"params": clean, "params_hash": new_hash, "previous_hash": old_hash},
        before=old,
        on_event=on_event,
    )
    return await get_action(session, action.id, clock=clock)


async def cancel(
    session: AsyncSession,
    *,
    action_id: int,
    actor: object,
    clock: Clock,
    reason: str | None = None,
    on_event: OnEvent | None = None,
) -> ActionView:
    """Cancel an action that has not started executing (nothing on chain yet)."""
    action = await load_action(session, action_id, lock=True)
    if action.status not in OPEN:
        raise ConflictError(
            f"Action {action_id} is {action.status}; only a proposed or approved action can be cancelled."
        )
    before = action.status
    action.status = "cancelled"
    name = actor_name(actor)
    await add_event(
        session, action, kind="cancelled", actor=name,
        text=f"{name} cancelled the action" + (f": {reason}" if reason else ""),
        clock=clock, before={"status": before}, on_event=on_event,
    )  # fmt: skip
    return await get_action(session, action.id, clock=clock)


async def link_incident(
    session: AsyncSession,
    *,
    action_id: int,
    incident_id: int,
    actor: object,
    clock: Clock,
    on_event: OnEvent | None = None,
) -> ActionView:
    """Link an action to an incident (e.g. an automatic action proposed before its incident was
    declared); its whole timeline then appears in :func:`events_for_incident`."""
    action = await load_action(session, action_id, lock=True)
    if action.incident_id == incident_id:
        return await get_action(session, action.id, clock=clock)
    before = action.incident_id
    action.incident_id = incident_id
    name = actor_name(actor)
    await add_event(
        session, action, kind="linked", actor=name,
        text=f"{name} linked the action to incident {incident_id}", clock=clock,
        details={"incident_id": incident_id}, before={"incident_id": before}, on_event=on_event,
    )  # fmt: skip
    return await get_action(session, action.id, clock=clock)
