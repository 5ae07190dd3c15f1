"""Reading emergency actions back: one action with its approvals (each marked valid or why not), latest
dry run, transactions and timeline; lists; an incident's action events as timeline items."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.clock import Clock
from fictra.emergency.approvals import ApprovalError, evaluate, why_invalid
from fictra.emergency.definitions import ApprovalRule, Definition, definition
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
from fictra.errors import NotFoundError, UsageError

__all__ = [
    "approvals_of",
    "dry_run_view",
    "event_view",
    "events_for_incident",
    "get_action",
    "last_amend",
    "latest_dry_run",
    "list_actions",
    "load_action",
    "require_approved",
    "rule_of",
]


def event_view(row: ActionEvent) -> ActionEventView:
    return ActionEventView(
        id=row.id,
        action_id=row.action_id,
        at=row.at,
        kind=row.kind,
        actor=row.actor,
        text=row.text,
        details=dict(row.details),
    )


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


async def approvals_of(session: AsyncSession, action_id: int) -> list[ActionApproval]:
    rows = await session.execute(
        select(ActionApproval).where(ActionApproval.action_id == action_id).order_by(ActionApproval.id)
    )
    return list(rows.scalars())


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
    approvals = await approvals_of(session, action.id)
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
        events=[event_view(e) for e in events.scalars()],
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


async def last_amend(session: AsyncSession, action_id: int) -> ActionEvent | None:
    row = await session.execute(
        select(ActionEvent)
        .where(ActionEvent.action_id == action_id, ActionEvent.kind == "amended")
        .order_by(ActionEvent.id.desc())
        .limit(1)
    )
    return row.scalar_one_or_none()


async def require_approved(session: AsyncSession, action: EmergencyAction, *, clock: Clock) -> None:
    """Raise :class:`ApprovalError` unless the rule is satisfied now, naming each approval that no
    longer counts (expired: when given and when it expired; parameters changed: hashes and who)."""
    approvals = await approvals_of(session, action.id)
    now = clock.now()
    verdict = evaluate(rule_of(action), approvals, current_hash=action.params_hash, now=now)
    if verdict.satisfied:
        return
    notes = []
    changed = await last_amend(session, action.id)
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


def ttl_left(approval: ActionApproval, now: datetime) -> timedelta:
    return approval.expires_at - now
