"""A response pipeline on a fake clock with the maintenance Muter plugged in (the integrator's wiring),
and the maintenance job context over it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import Clear, Finding, Severity
from fictra.clock import FakeClock
from fictra.maintenance.config import MaintenanceConfig
from fictra.maintenance.holding import load_muter
from fictra.maintenance.jobs import MaintenanceContext, TickResult, tick_once
from fictra.maintenance.models import MaintenanceWindow
from fictra.monitors.base import MonitorOutput
from fictra.monitors.pipeline import AlertPipeline
from fictra.notify.models import Notification
from fictra.response.config import EscalationConfig, InhibitConfig, OncallConfig, RoutingConfig
from fictra.response.context import ResponseContext
from fictra.response.loader import ResponseConfig
from fictra.response.models import AlertResponse, SlaBreach
from fictra.response.pipeline import ResponsePipeline
from fictra.response.scheduled import tick

RECEIVERS = {"ops-log": ["log"], "ops-email": ["email"], "stakeholders": ["email"]}
PEOPLE: dict[str, Any] = {"alice": {"roles": ["first_level_support"], "receiver": "ops-email"}}


def response_config() -> ResponseConfig:
    oncall = OncallConfig.model_validate(
        {
            "people": PEOPLE,
            "schedules": [
                {
                    "name": "first-line",
                    "rotations": [
                        {
                            "name": "w",
                            "people": ["alice"],
                            "start": "2025-12-29T09:00:00+00:00",
                            "shift": "7d",
                        }
                    ],
                }
            ],
        }
    )
    return ResponseConfig(
        escalation=EscalationConfig.model_validate({}),
        oncall=oncall,
        routing=RoutingConfig.model_validate({}),
        inhibit=InhibitConfig.model_validate({}),
        receivers=RECEIVERS,
    )


def finding(name: str, severity: Severity = Severity.P2, **labels: str) -> Finding:
    return Finding(
        monitor=f"test-{name}", severity=severity, summary=f"{name} happened", labels={"name": name, **labels}
    )


class Harness:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: FakeClock, **config: Any) -> None:
        self.sessions = sessions
        self.clock = clock
        self.config = MaintenanceConfig.model_validate({"recipients": ["stakeholders"], **config})
        self.response = ResponseContext(config=response_config(), clock=clock, hold=load_muter)
        self.alerts = AlertPipeline(
            monitors=[], clock=clock, on_changes=ResponsePipeline(self.response).on_changes
        )
        self.ctx = MaintenanceContext(config=self.config, clock=clock, response=self.response)

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

    async def tick(self) -> TickResult:
        """One maintenance job run, then one response (escalation/SLA) tick."""
        async with self.sessions.begin() as session:
            result = await tick_once(session, ctx=self.ctx)
        async with self.sessions.begin() as session:
            await tick(session, self.response)
        return result

    async def outbox(self) -> list[Notification]:
        async with self.sessions() as session:
            return list((await session.execute(select(Notification).order_by(Notification.id))).scalars())

    async def response_row(self, alert_id: int) -> AlertResponse:
        async with self.sessions() as session:
            row = await session.get(AlertResponse, alert_id)
            if row is None:
                raise LookupError(alert_id)
            return row

    async def breaches(self) -> list[SlaBreach]:
        async with self.sessions() as session:
            return list((await session.execute(select(SlaBreach).order_by(SlaBreach.id))).scalars())

    async def window_count(self) -> int:
        async with self.sessions() as session:
            return int(
                (await session.execute(select(func.count()).select_from(MaintenanceWindow))).scalar_one()
            )
