"""Automatic response: an enabled policy turns a matching alert change into a pre-approved action.

Policies are declared in ``config/emergency.yaml``; whether one is enabled lives in the
``response_policies`` table and changes only when an approved ``policy_enable``/``policy_disable``
action executes — so every policy starts disabled. A triggered action is proposed by the policy
(audited as such, with ``trigger_alert_id``), approved by the policy at once, and executed by the
runner (dry run included) without waiting for a person.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert, EventKind
from fictra.alerting.values import AlertChange
from fictra.clock import Clock
from fictra.emergency import service
from fictra.emergency.config import EmergencyConfig, PolicyConfig
from fictra.emergency.events import OnEvent
from fictra.emergency.models import EmergencyAction, ResponsePolicyState

__all__ = ["IncidentForAlert", "PolicyView", "enabled_policies", "list_policies", "matches", "trigger"]

# the incidents domain's "which incident is this alert in" (passed in by the integrator)
IncidentForAlert = Callable[[AsyncSession, int], Awaitable[int | None]]
_TRIGGERS = {EventKind.FIRED: "fired", EventKind.REFIRED: "fired", EventKind.CONFIRMED: "confirmed"}


class PolicyView(BaseModel):
    name: str
    description: str
    when: dict[str, object]
    action: str
    params: dict[str, object]
    enabled: bool
    changed_at: str | None
    changed_by: str | None
    action_id: int | None


async def enabled_policies(session: AsyncSession) -> set[str]:
    rows = await session.execute(
        select(ResponsePolicyState.name).where(ResponsePolicyState.enabled.is_(True))
    )
    return set(rows.scalars())


async def list_policies(session: AsyncSession, config: EmergencyConfig) -> list[PolicyView]:
    rows = {r.name: r for r in (await session.execute(select(ResponsePolicyState))).scalars()}
    out = []
    for name, pol in config.policies.items():
        row = rows.get(name)
        out.append(
            PolicyView(
                name=name,
                description=pol.description,
                when=pol.when.model_dump(),
                action=pol.action,
                params=dict(pol.params),
                enabled=bool(row and row.enabled),
                changed_at=row.changed_at.isoformat() if row else None,
                changed_by=row.changed_by if row else None,
                action_id=row.action_id if row else None,
            )
        )
    return out


def matches(policy: PolicyConfig, alert: Alert, change: AlertChange) -> bool:
    trigger = _TRIGGERS.get(change.kind)
    if trigger is None or trigger not in policy.when.events:
        return False
    if change.confirmation == "retracted":
        return False
    labels = dict(alert.labels or {})
    return (
        alert.monitor == policy.when.monitor
        and str(alert.severity) == policy.when.severity
        and all(labels.get(k) == v for k, v in policy.when.labels.items())
    )


async def trigger(
    session: AsyncSession,
    changes: Sequence[AlertChange],
    *,
    config: EmergencyConfig,
    clock: Clock,
    on_event: OnEvent | None = None,
    incident_for_alert: IncidentForAlert | None = None,
) -> list[int]:
    """Propose the pre-approved action of every enabled policy a change matches (once per policy and
    firing of the alert: an alert that resolved and fires again triggers again); returns the new action
    ids. Runs inside the alert store's transaction."""
    if not config.policies or not changes:
        return []
    enabled = await enabled_policies(session)
    if not enabled:
        return []
    created: list[int] = []
    for change in changes:
        candidates = [p for name, p in config.policies.items() if name in enabled]
        if not candidates or change.kind not in _TRIGGERS:
            continue
        alert = await session.get(Alert, change.alert_id)
        if alert is None:
            continue
        for policy in candidates:
            if not matches(policy, alert, change):
                continue
            exists = await session.execute(
                select(EmergencyAction.id).where(
                    EmergencyAction.trigger_alert_id == alert.id,
                    EmergencyAction.policy == policy.name,
                    EmergencyAction.trigger_at == alert.fired_at,
                )
            )
            if exists.first() is not None:
                continue
            view = await service.propose(
                session,
                kind=policy.action,
                params=dict(policy.params),
                actor=f"policy:{policy.name}",
                clock=clock,
                incident_id=(
                    await incident_for_alert(session, alert.id) if incident_for_alert is not None else None
                ),
                reason=f"automatic response: policy '{policy.name}' on alert {alert.id} "
                f"({alert.summary[:200]})",
                trigger_alert_id=alert.id,
                rules=config.rules,
                policy=policy.name,
                on_event=on_event,
            )
            created.append(view.id)
    return created
