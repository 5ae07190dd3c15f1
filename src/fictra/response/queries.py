"""Read models of alert response: an alert's SLA clocks and escalation timeline; on-call now and next."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert
from fictra.errors import NotFoundError
from fictra.response.context import ResponseContext
from fictra.response.models import AlertResponse, EscalationStep
from fictra.response.oncall import next_on_call, on_call
from fictra.response.sla import SlaClocks, clocks_for


class StepView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    level: int
    level_name: str
    reason: str
    people: list[str]
    skipped: list[str]


class ResponseView(BaseModel):
    alert_id: int
    severity: str
    team: str
    policy: str | None
    level: int
    level_name: str | None
    active: bool
    clocks: SlaClocks
    next_escalation_at: datetime | None
    snoozed_until: datetime | None
    assignee: str | None
    muted_by: str | None
    steps: list[StepView]


async def response_of(session: AsyncSession, ctx: ResponseContext, *, alert_id: int) -> ResponseView:
    found = (
        await session.execute(
            select(AlertResponse, Alert.resolved_at, Alert.acknowledged_at)
            .join(Alert, Alert.id == AlertResponse.alert_id)
            .where(AlertResponse.alert_id == alert_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if found is None:
        raise NotFoundError(f"Alert {alert_id} has no response record (it never fired while response ran).")
    row, resolved_at, acknowledged_at = found
    if acknowledged_at is not None and row.acknowledged_at is None:
        # acknowledged through the alert store directly (console/API): the tick syncs the row later; the
        # view already shows the clock stopped and no escalation pending (on a detached copy: reading
        # writes nothing)
        session.expunge(row)
        row.acknowledged_at, row.next_escalation_at = acknowledged_at, None
    steps = (
        await session.execute(
            select(EscalationStep).where(EscalationStep.alert_id == alert_id).order_by(EscalationStep.id)
        )
    ).scalars()
    policy = next((p for p in ctx.config.escalation.policies if p.name == row.policy), None)
    level_name = policy.levels[row.level].name if policy and 0 <= row.level < len(policy.levels) else None
    return ResponseView(
        alert_id=alert_id,
        severity=row.severity,
        team=row.team,
        policy=row.policy,
        level=row.level,
        level_name=level_name,
        active=row.active,
        clocks=clocks_for(row, resolved_at=resolved_at, now=ctx.clock.now()),
        next_escalation_at=row.next_escalation_at,
        snoozed_until=row.snoozed_until,
        assignee=row.assignee,
        muted_by=row.muted_by,
        steps=[StepView.model_validate(s) for s in steps],
    )


class OncallShift(BaseModel):
    person: str
    start: datetime
    end: datetime
    source: str


class OncallView(BaseModel):
    schedule: str
    now: list[OncallShift]
    next_at: datetime | None
    next: list[OncallShift]


async def oncall_now(
    session: AsyncSession, ctx: ResponseContext, *, schedule: str | None = None
) -> list[OncallView]:
    now = ctx.clock.now()
    directory = await ctx.directory(session, now=now)
    schedules = ctx.config.oncall.schedules
    if schedule is not None:
        schedules = [s for s in schedules if s.name == schedule]
        if not schedules:
            names = ", ".join(s.name for s in ctx.config.oncall.schedules) or "none"
            raise NotFoundError(f"No on-call schedule '{schedule}' (oncall.yaml has: {names}).")
    out = []
    for sched in schedules:
        current = on_call(sched, now, directory.overrides)
        upcoming = next_on_call(sched, now, directory.overrides)
        out.append(
            OncallView(
                schedule=sched.name,
                now=[
                    OncallShift(person=s.person, start=s.start, end=s.end, source=s.source) for s in current
                ],
                next_at=upcoming[0] if upcoming else None,
                next=[
                    OncallShift(person=s.person, start=s.start, end=s.end, source=s.source)
                    for s in (upcoming[1] if upcoming else [])
                ],
            )
        )
    return out
