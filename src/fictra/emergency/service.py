"""Proposing, amending, approving and cancelling emergency actions; reading them back.

Every change writes an ``action_events`` row (the action's timeline) and an audit entry in the caller's
transaction. Execution (dry run, signing, tracking) is :class:`fictra.emergency.runner.ActionRunner`.

The approval rule in force is copied onto the action when it is proposed (``config/emergency.yaml`` may
override a kind's default): a later config change does not move the goalposts of an open action.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert
from fictra.audit.service import actor_name, record
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
from fictra.emergency.models import (
    ActionApproval,
    ActionDryRun,
    ActionEvent,
    ActionTx,
    EmergencyAction,
)
from fictra.emergency.types import (
    ActionEventView,
    ActionView,
    ApprovalView,
    DryRunView,
    TimelineItem,
    TxView,
)
from fictra.errors import ConflictError, NotFoundError, PermissionDeniedError, UsageError

__all__ = [
    "OnEvent",
    "add_event",
    "amend",
    "approve",
    "cancel",
    "events_for_incident",
    "get_action",
    "link_incident",
    "list_actions",
    "load_action",
    "propose",
    "require_approved",
]

OnEvent = Callable[[AsyncSession, ActionEventView], Awaitable[None]]
OPEN = frozenset({"proposed", "approved"})


def _event_view(row: ActionEvent) -> ActionEventView:
    return ActionEventView(
        id=row.id,
        action_id=row.action_id,
        at=row.at,
        kind=row.kind,
        actor=row.actor,
        text=row.text,
        details=dict(row.details),
    )


async def add_event(
    session: AsyncSession,
    action: EmergencyAction,
    *,
    kind: str,
    actor: object,
    text: str,
    clock: Clock,
    details: Mapping[str, Any] | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    on_event: OnEvent | None = None,
) -> ActionEventView:
    """One timeline row plus its audit entry (``action.<kind>``, target ``action:<id>``), in the
    caller's transaction; then ``on_event`` (same transaction)."""
    name = actor_name(actor)
    row = ActionEvent(
        action_id=action.id,
        at=clock.now(),
        kind=kind,
        actor=name,
        text=text,
        details=dict(details or {}),
    )
    session.add(row)
    action.updated_at = row.at
    await session.flush()
    await record(
        session,
        actor=name,
        action=f"action.{kind}",
        target=f"action:{action.id}",
        before=before,
        after={"kind": action.kind, "status": action.status, **(after or {}), **dict(details or {})},
        reason=text,
        clock=clock,
    )
    view = _event_view(row)
    if on_event is not None:
        await on_event(session, view)
    return view


def rule_of(action: EmergencyAction) -> ApprovalRule:
    return ApprovalRule.from_dict(action.rule)


async def load_action(session: AsyncSession, action_id: int, *, lock: bool = False) -> EmergencyAction:
    stmt = select(EmergencyAction).where(EmergencyAction.id == action_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await session.execute(stmt.execution_options(populate_existing=True))).scalar_one_or_none()
    if row is None:
        raise NotFoundError(
            f"No emergency action with id '{action_id}'. List them with `fictra actions list`."
        )
    return row


async def _approvals(session: AsyncSession, action_id: int) -> list[ActionApproval]:
    rows = await session.execute(
        select(ActionApproval).where(ActionApproval.action_id == action_id).order_by(ActionApproval.id)
    )
    return list(rows.scalars())


def _roles_of(actor: object) -> tuple[str, ...]:
    roles = getattr(actor, "roles", ())
    return canonical_roles(roles if isinstance(roles, tuple | list) else ())


async def _refresh_status(session: AsyncSession, action: EmergencyAction, *, clock: Clock) -> None:
    if action.status not in OPEN:
        return
    verdict = evaluate(
        rule_of(action),
        await _approvals(session, action.id),
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
    if policy is None and not set(roles) & set(defn.proposers):
        raise PermissionDeniedError(
            f"'{name}' (roles: {', '.join(roles) or 'none'}) may not propose '{kind}'; "
            f"proposers are: {', '.join(defn.proposers)}."
        )
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
        changed = await _last_amend(session, action.id)
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
    for earlier in await _approvals(session, action.id):
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


async def _last_amend(session: AsyncSession, action_id: int) -> ActionEvent | None:
    row = await session.execute(
        select(ActionEvent)
        .where(ActionEvent.action_id == action_id, ActionEvent.kind == "amended")
        .order_by(ActionEvent.id.desc())
        .limit(1)
    )
    return row.scalar_one_or_none()


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
    roles = _roles_of(actor)
    if not set(roles) & set(defn.proposers):
        raise PermissionDeniedError(
            f"'{name}' (roles: {', '.join(roles) or 'none'}) may not amend '{action.kind}'; "
            f"proposers are: {', '.join(defn.proposers)}."
        )
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


async def require_approved(session: AsyncSession, action: EmergencyAction, *, clock: Clock) -> None:
    """Raise :class:`ApprovalError` unless the rule is satisfied now, naming each approval that no
    longer counts (expired: when given and when it expired; parameters changed: hashes and who)."""
    approvals = await _approvals(session, action.id)
    now = clock.now()
    verdict = evaluate(rule_of(action), approvals, current_hash=action.params_hash, now=now)
    if verdict.satisfied:
        return
    notes = []
    changed = await _last_amend(session, action.id)
    for a in approvals:
        problem = why_invalid(a, current_hash=action.params_hash, now=now)
        if problem is None:
            continue
        if a.params_hash != action.params_hash:
            who = f", changed by {changed.actor} at {changed.at.isoformat()}" if changed else ""
            notes.append(
                f"approval #{a.id} by {a.approver} approved parameters {a.params_hash[:12]} but they are "
                f"now {action.params_hash[:12]}{who}"
            )
        else:
            notes.append(
                f"approval #{a.id} by {a.approver} given at {a.approved_at.isoformat()} expired at "
                f"{a.expires_at.isoformat()}"
            )
    detail = ("; ".join(notes) + ". ") if notes else ""
    raise ApprovalError(
        f"Action {action.id} ({action.kind}) is not approved: {detail}Still needed: {verdict.missing}. "
        "Approve again with the current parameters."
    )


def _approval_view(a: ActionApproval, *, current_hash: str, now: datetime) -> ApprovalView:
    note = why_invalid(a, current_hash=current_hash, now=now)
    return ApprovalView(
        id=a.id,
        approver=a.approver,
        roles=list(a.roles),
        params_hash=a.params_hash,
        approved_at=a.approved_at,
        expires_at=a.expires_at,
        via=a.via,
        valid=note is None,
        note=note,
    )


def dry_run_view(row: ActionDryRun) -> DryRunView:
    return DryRunView(
        id=row.id,
        action_id=row.action_id,
        params_hash=row.params_hash,
        at=row.at,
        block_number=row.block_number,
        ok=row.ok,
        traced=row.traced,
        steps=list(row.steps),
        summary=row.summary,
    )


def _tx_view(row: ActionTx) -> TxView:
    return TxView(
        id=row.id,
        step=row.step,
        label=row.label,
        to=row.to,
        signer=row.signer,
        nonce=row.nonce,
        tx_hash=row.tx_hash,
        status=row.status,
        block_number=row.block_number,
        gas_used=row.gas_used,
        effective_gas_price=row.effective_gas_price,
        confirmations=row.confirmations,
        error=row.error,
    )


async def latest_dry_run(session: AsyncSession, action_id: int) -> ActionDryRun | None:
    row = await session.execute(
        select(ActionDryRun)
        .where(ActionDryRun.action_id == action_id)
        .order_by(ActionDryRun.id.desc())
        .limit(1)
    )
    return row.scalar_one_or_none()


async def _view(session: AsyncSession, action: EmergencyAction, *, now: datetime) -> ActionView:
    rule = rule_of(action)
    approvals = await _approvals(session, action.id)
    verdict = evaluate(rule, approvals, current_hash=action.params_hash, now=now)
    dry = await latest_dry_run(session, action.id)
    txs = await session.execute(select(ActionTx).where(ActionTx.action_id == action.id).order_by(ActionTx.id))
    events = await session.execute(
        select(ActionEvent).where(ActionEvent.action_id == action.id).order_by(ActionEvent.id)
    )
    defn: Definition = definition(action.kind)
    return ActionView(
        id=action.id,
        kind=action.kind,
        title=defn.title,
        params=dict(action.params),
        params_hash=action.params_hash,
        status=action.status,
        proposed_by=action.proposed_by,
        proposed_at=action.proposed_at,
        reason=action.reason,
        incident_id=action.incident_id,
        trigger_alert_id=action.trigger_alert_id,
        policy=action.policy,
        approvals=[_approval_view(a, current_hash=action.params_hash, now=now) for a in approvals],
        approvals_needed=rule.describe(),
        rule_satisfied=verdict.satisfied,
        dry_run=dry_run_view(dry) if dry is not None else None,
        txs=[_tx_view(t) for t in txs.scalars()],
        scheduled_ready_at=action.scheduled_ready_at,
        alert_to_confirmed_seconds=action.alert_to_confirmed_seconds,
        verification=action.verification,
        error=action.error,
        updated_at=action.updated_at,
        events=[_event_view(e) for e in events.scalars()],
    )


async def get_action(session: AsyncSession, action_id: int, *, clock: Clock | None = None) -> ActionView:
    """One action with its approvals (each marked valid or why not), latest dry run, transactions and
    timeline. Validity is judged at ``clock.now()`` (wall time when no clock is given)."""
    action = await load_action(session, action_id)
    return await _view(session, action, now=_now(clock))


def _now(clock: Clock | None) -> datetime:
    if clock is not None:
        return clock.now()
    from fictra.clock import SystemClock

    return SystemClock().now()


async def list_actions(
    session: AsyncSession,
    *,
    incident_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
    clock: Clock | None = None,
) -> list[ActionView]:
    """Newest first."""
    if not 1 <= limit <= 1000:
        raise UsageError(f"'limit' has value {limit}; use 1..1000.")
    stmt = select(EmergencyAction).order_by(EmergencyAction.id.desc()).limit(limit)
    if incident_id is not None:
        stmt = stmt.where(EmergencyAction.incident_id == incident_id)
    if status is not None:
        stmt = stmt.where(EmergencyAction.status == status)
    rows = list((await session.execute(stmt)).scalars())
    now = _now(clock)
    return [await _view(session, row, now=now) for row in rows]


async def events_for_incident(session: AsyncSession, incident_id: int) -> list[TimelineItem]:
    """Every event of the actions linked to ``incident_id``, oldest first, as incident timeline items
    (kind ``action.<event>``, ref ``action:<id>``; tx hashes, blocks and gas in ``details``)."""
    rows = await session.execute(
        select(ActionEvent, EmergencyAction.kind)
        .join(EmergencyAction, EmergencyAction.id == ActionEvent.action_id)
        .where(EmergencyAction.incident_id == incident_id)
        .order_by(ActionEvent.at, ActionEvent.id)
    )
    return [
        TimelineItem(
            at=event.at,
            kind=f"action.{event.kind}",
            actor=event.actor,
            text=f"[{kind} #{event.action_id}] {event.text}",
            ref=f"action:{event.action_id}",
            details={"action_id": event.action_id, "action_kind": kind, **dict(event.details)},
        )
        for event, kind in rows.all()
    ]


def ttl_left(approval: ActionApproval, now: datetime) -> timedelta:
    return approval.expires_at - now
