"""Shared set-up for response tests: a config with four people on the runbook path, a context on a fake
clock, and helpers to fire alerts through the real alert pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import Clear, Finding, Severity
from fictra.clock import FakeClock
from fictra.monitors.base import MonitorOutput
from fictra.monitors.pipeline import AlertPipeline
from fictra.notify.models import Notification
from fictra.response.config import EscalationConfig, InhibitConfig, OncallConfig, RoutingConfig
from fictra.response.context import ResponseContext
from fictra.response.loader import ResponseConfig
from fictra.response.models import EscalationStep, SlaBreach
from fictra.response.pipeline import ResponsePipeline

PEOPLE: dict[str, Any] = {
    "alice": {"roles": ["first_level_support"], "receiver": "ops-email"},
    "bob": {"roles": ["technical_lead"], "receiver": "ops-webhook"},
    "carol": {"roles": ["system_architect"], "receiver": "ops-webhook"},
    "dave": {"roles": ["executive"], "receiver": "ops-email"},
}


RECEIVERS = {"ops-log": ["log"], "ops-email": ["email"], "ops-webhook": ["webhook", "log"]}


def oncall(**extra: Any) -> OncallConfig:
    raw: dict[str, Any] = {
        "people": PEOPLE,
        "schedules": [
            {
                "name": "first-line",
                "rotations": [
                    {
                        "name": "weekly",
                        "people": ["alice"],
                        "start": "2025-12-29T09:00:00+00:00",
                        "shift": "7d",
                    }
                ],
            }
        ],
    }
    raw.update(extra)
    return OncallConfig.model_validate(raw)


def make_config(
    *,
    escalation: dict[str, Any] | None = None,
    oncall_cfg: OncallConfig | None = None,
    routing: dict[str, Any] | None = None,
    inhibit: dict[str, Any] | None = None,
) -> ResponseConfig:
    return ResponseConfig(
        escalation=EscalationConfig.model_validate(escalation or {}),
        oncall=oncall_cfg or oncall(),
        routing=RoutingConfig.model_validate(routing or {}),
        inhibit=InhibitConfig.model_validate(inhibit or {}),
        receivers=RECEIVERS,
    )


def finding(name: str = "paused", severity: Severity = Severity.P0, **labels: str) -> Finding:
    return Finding(
        monitor=f"test-{name}",
        severity=severity,
        summary=f"{name} happened",
        labels={"name": name, **labels},
    )


class Harness:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, config: ResponseConfig):
        self.sessions = sessions
        self.clock = clock
        self.ctx = ResponseContext(config=config, clock=clock)
        self.response = ResponsePipeline(self.ctx)
        self.alerts = AlertPipeline(monitors=[], clock=clock, on_changes=self.response.on_changes)

    async def fire(self, *findings: Finding) -> list[int]:
        async with self.sessions.begin() as session:
            changes = await self.alerts.ingest(
                session, MonitorOutput(findings=list(findings)), network="devnet", head=None
            )
        return [c.alert_id for c in changes]

    async def clear(self, *findings: Finding) -> None:
        clears = [Clear(f.monitor, f.labels, f.network) for f in findings]
        async with self.sessions.begin() as session:
            await self.alerts.ingest(session, MonitorOutput(clears=clears), network="devnet", head=None)

    async def tick(self) -> Any:
        from fictra.response.scheduled import tick

        async with self.sessions.begin() as session:
            return await tick(session, self.ctx)

    async def steps(self, alert_id: int) -> list[EscalationStep]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(EscalationStep).where(EscalationStep.alert_id == alert_id).order_by(EscalationStep.id)
            )
            return list(rows.scalars())

    async def outbox(self) -> list[Notification]:
        async with self.sessions() as session:
            return list((await session.execute(select(Notification).order_by(Notification.id))).scalars())

    async def breaches(self) -> list[SlaBreach]:
        async with self.sessions() as session:
            return list((await session.execute(select(SlaBreach).order_by(SlaBreach.id))).scalars())


def levels(steps: Sequence[EscalationStep]) -> list[tuple[str, list[str], str]]:
    return [(s.level_name, list(s.people), s.reason) for s in steps]
