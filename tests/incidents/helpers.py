"""Shared set-up for incident tests: real alerts through the alert store, real users, timeline/audit reads."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.alerting.service import apply_findings
from fictra.audit.models import AuditEntry
from fictra.auth.actor import SYSTEM, Actor
from fictra.auth.permissions import default_roles
from fictra.auth.service import create_user
from fictra.clock import FakeClock
from fictra.incidents.linked_actions import ActionLedger
from fictra.incidents.models import IncidentEvent

PASSWORD = "Correct-Horse-Battery-Staple-9"
LEAD = Actor(None, "lead", ("technical_lead",), default_roles().roles["technical_lead"], "cli")


def finding(
    name: str = "paused", severity: Severity = Severity.P0, *, block: int = 100, **labels: str
) -> Finding:
    return Finding(
        monitor="contract-status",
        severity=severity,
        summary=f"{name} happened",
        labels={"contract": "PaymentToken", "condition": name, **labels},
        network="devnet",
        block=BlockRef(block, "0x" + f"{block:064x}"),
        evidence={"observed": True},
        tx_hashes=("0x" + "ab" * 32,),
    )


async def fire(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, *findings: Finding) -> list[int]:
    async with sessions.begin() as session:
        result = await apply_findings(session, list(findings), head=None, clock=clock)
    return [c.alert_id for c in result.changes]


async def add_users(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, *names: str) -> None:
    async with sessions.begin() as session:
        for name in names:
            await create_user(
                session,
                username=name,
                roles=["technical_lead"],
                password=PASSWORD,
                role_map=default_roles(),
                actor=SYSTEM,
                clock=clock,
            )


async def events(sessions: async_sessionmaker[AsyncSession], incident_id: int) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.execute(
            select(IncidentEvent.kind, IncidentEvent.text)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.id)
        )
        return [(k, t) for k, t in rows.all()]


async def audit(
    sessions: async_sessionmaker[AsyncSession], prefix: str = "incident."
) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEntry).where(AuditEntry.action.startswith(prefix)).order_by(AuditEntry.idx)
        )
        return [
            {"action": e.action, "target": e.target, "actor": e.actor, "before": e.before, "after": e.after}
            for e in rows.scalars()
        ]


def emergency_actions() -> ActionLedger:
    """The real emergency actions as incidents read them (the ledger the platform passes in)."""
    from fictra.emergency.ledger import ActionsLedger

    return ActionsLedger()
