"""SLA clocks: acknowledgement and resolution deadlines per severity, their countdowns, and breaches.

The acknowledgement deadline comes from ``alerting.yaml`` (the runbook: P0 15m, P1 1h, P2 4h, P3 24h);
the resolution deadline from ``escalation.yaml`` ``resolve_deadlines`` (defaults P0 4h, P1 24h, P2 3d,
P3 7d). Every breach is a row in ``sla_breaches`` and a tick of ``fictra_sla_breaches_total``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.response.models import AlertResponse, SlaBreach


class Clock(BaseModel):
    """One deadline as the console, API and CLI show it."""

    deadline: datetime
    remaining_seconds: float
    state: str  # running | met | breached | stopped


class SlaClocks(BaseModel):
    acknowledge: Clock
    resolve: Clock


def clock_state(
    *, deadline: datetime, done_at: datetime | None, breached: bool, active: bool, now: datetime
) -> Clock:
    if done_at is not None:
        state = "met" if done_at <= deadline else "breached"
        return Clock(deadline=deadline, remaining_seconds=(deadline - done_at).total_seconds(), state=state)
    remaining = (deadline - now).total_seconds()
    if breached or remaining < 0:
        return Clock(deadline=deadline, remaining_seconds=remaining, state="breached")
    return Clock(deadline=deadline, remaining_seconds=remaining, state="running" if active else "stopped")


def clocks_for(row: AlertResponse, *, resolved_at: datetime | None, now: datetime) -> SlaClocks:
    return SlaClocks(
        acknowledge=clock_state(
            deadline=row.ack_deadline,
            done_at=row.acknowledged_at,
            breached=row.ack_breached,
            active=row.active,
            now=now,
        ),
        resolve=clock_state(
            deadline=row.resolve_deadline,
            done_at=resolved_at,
            breached=row.resolve_breached,
            active=row.active,
            now=now,
        ),
    )


@dataclass(frozen=True)
class SlaMetrics:
    breaches: Counter

    @classmethod
    def register(cls, registry: CollectorRegistry) -> SlaMetrics:
        return cls(
            Counter(
                "fictra_sla_breaches",
                "Missed SLA deadlines by severity, team and kind (acknowledge/resolve).",
                ["severity", "team", "kind"],
                registry=registry,
            )
        )


async def record_breach(
    session: AsyncSession,
    *,
    row: AlertResponse,
    kind: str,
    at: datetime,
    metrics: SlaMetrics | None,
) -> None:
    deadline = row.ack_deadline if kind == "acknowledge" else row.resolve_deadline
    session.add(
        SlaBreach(
            alert_id=row.alert_id,
            kind=kind,
            severity=row.severity,
            team=row.team,
            deadline=deadline,
            breached_at=at,
        )
    )
    if metrics is not None:
        metrics.breaches.labels(row.severity, row.team, kind).inc()


class BreachCount(BaseModel):
    severity: str
    team: str
    kind: str
    count: int


async def breach_report(
    session: AsyncSession, *, since: datetime | None = None, until: datetime | None = None
) -> list[BreachCount]:
    """Breaches counted per severity, team and kind (for reports)."""
    stmt = select(SlaBreach.severity, SlaBreach.team, SlaBreach.kind, func.count()).group_by(
        SlaBreach.severity, SlaBreach.team, SlaBreach.kind
    )
    if since is not None:
        stmt = stmt.where(SlaBreach.breached_at >= since)
    if until is not None:
        stmt = stmt.where(SlaBreach.breached_at < until)
    rows = (await session.execute(stmt.order_by(SlaBreach.severity, SlaBreach.team, SlaBreach.kind))).all()
    return [BreachCount(severity=s, team=t, kind=k, count=int(c)) for s, t, k, c in rows]
