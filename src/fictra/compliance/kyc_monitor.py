"""The KYC check (a polled monitor on the injected clock): an approved record past its expiry becomes
``expired`` (audited) and alerts; a periodic review due within ``review_lead`` alerts; both clear when the
record is renewed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Finding, Severity
from fictra.audit.service import record
from fictra.clock import Clock
from fictra.compliance.config import ComplianceConfig
from fictra.compliance.models import KycRecord
from fictra.monitors.base import MonitorOutput
from fictra.monitors.state import Conditions

__all__ = ["KYC", "KycMonitor"]

KYC = "compliance.kyc"


class KycMonitor:
    """A polled monitor (``fictra.monitors.base.PolledMonitor``)."""

    name = KYC

    def __init__(self, *, config: ComplianceConfig, clock: Clock, network: str) -> None:
        self.config = config
        self.clock = clock
        self.network = network
        self.interval: timedelta = config.kyc.check_every
        self.conditions = Conditions(monitor=KYC, network=network)

    async def poll(self, session: AsyncSession) -> MonitorOutput:
        out = MonitorOutput()
        await self.conditions.resume(session)
        now = self.clock.now()
        lead = self.config.kyc.review_lead
        severity = Severity(self.config.kyc.severity)
        for rec in (await session.scalars(select(KycRecord).order_by(KycRecord.id))).all():
            expired = {"participant": rec.participant, "condition": "expired"}
            review = {"participant": rec.participant, "condition": "review_due"}
            if rec.status == "approved" and rec.expires_at is not None and rec.expires_at <= now:
                rec.status, rec.updated_at, rec.updated_by = "expired", now, "system"
                await record(
                    session,
                    actor="system",
                    action="compliance.kyc_expired",
                    target=f"kyc:{rec.participant}",
                    before={"status": "approved"},
                    after={"status": "expired", "expires_at": rec.expires_at.isoformat()},
                    clock=self.clock,
                )
            if rec.status == "expired":
                when = rec.expires_at.date().isoformat() if rec.expires_at else "unknown"
                self.conditions.hold(
                    Finding(
                        monitor=KYC,
                        severity=severity,
                        labels=expired,
                        network=self.network,
                        summary=f"KYC of {rec.participant} expired ({when})",
                        evidence={"status": rec.status, "expires_at": when, "risk_rating": rec.risk_rating},
                    ),
                    out,
                )
            else:
                self.conditions.release(expired, out)
            if (
                rec.status in ("approved", "pending")
                and rec.review_due is not None
                and rec.review_due <= now + lead
            ):
                due = rec.review_due.date().isoformat()
                self.conditions.hold(
                    Finding(
                        monitor=KYC,
                        severity=severity,
                        labels=review,
                        network=self.network,
                        summary=f"KYC review of {rec.participant} due {due}"
                        + (" (overdue)" if rec.review_due <= now else ""),
                        evidence={"review_due": due, "risk_rating": rec.risk_rating, "status": rec.status},
                    ),
                    out,
                )
            else:
                self.conditions.release(review, out)
        await session.flush()
        return out
