"""KYC: CSV import (a bad row refuses the file with its line), expiry and review-due alerts on the injected
clock, and a transfer by a participant whose KYC is not approved alerted at the head."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from compliance.helpers import FIXTURES, batch, block, manifest
from fictra.alerting.models import Alert
from fictra.audit.models import AuditEntry
from fictra.clock import FakeClock
from fictra.compliance.config import ComplianceConfig
from fictra.compliance.kyc import import_kyc_csv, list_kyc, parse_kyc_csv
from fictra.compliance.kyc_monitor import KYC, KycMonitor
from fictra.compliance.monitor import KYC_TRANSFER, ScreeningMonitor
from fictra.errors import UsageError
from fictra.monitors.pipeline import AlertPipeline

BANK_A = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8"  # approved
BANK_B = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc"  # pending


def test_bad_csv_row_names_its_line() -> None:
    good = (FIXTURES / "kyc.csv").read_bytes()
    assert [i.participant for i in parse_kyc_csv(good, "kyc.csv")] == ["bank-a", "bank-b"]
    bad = good.replace(b"approved,low", b"approved,extreme")
    with pytest.raises(UsageError, match=r"^kyc.csv:2: risk_rating 'extreme' is not one of"):
        parse_kyc_csv(bad, "kyc.csv")
    with pytest.raises(UsageError, match=r"kyc.csv:1: missing column\(s\) documents"):
        parse_kyc_csv(
            b"participant,name,role,addresses,status,risk_rating,review_due,expires_at\n", "kyc.csv"
        )


async def _alerts(session: AsyncSession, monitor: str) -> dict[str, str]:
    rows = (await session.scalars(select(Alert).where(Alert.monitor == monitor))).all()
    return {f"{a.labels['participant']}:{a.labels.get('condition', '')}": a.status for a in rows}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # storage: test_screening, test_lists
async def test_expiry_review_and_transfer_alerts(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(datetime(2027, 5, 1, tzinfo=UTC))
    config = ComplianceConfig()
    async with sessions.begin() as session:
        await import_kyc_csv(
            session, (FIXTURES / "kyc.csv").read_bytes(), path="kyc.csv", actor="co", clock=clock
        )
    pipeline = AlertPipeline(
        monitors=[ScreeningMonitor(config=config, manifest=manifest(), clock=clock)], clock=clock
    )
    kyc = KycMonitor(config=config, clock=clock, network="devnet")

    async def poll() -> dict[str, str]:
        async with sessions.begin() as session:
            await pipeline.ingest(session, await kyc.poll(session), network="devnet", head=None)
        async with sessions() as session:
            return await _alerts(session, KYC)

    assert await poll() == {}  # review of bank-a due 2027-06-01: more than 14 days away
    clock.advance(timedelta(days=20).total_seconds())  # 2027-05-21: within the review lead
    assert await poll() == {"bank-a:review_due": "firing"}
    clock.advance(timedelta(days=230).total_seconds())  # 2028-01-06: past the expiry (2027-12-31)
    assert await poll() == {"bank-a:review_due": "resolved", "bank-a:expired": "firing"}
    async with sessions() as session:
        records = {r.participant: r.status for r in await list_kyc(session)}
        audit = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "compliance.kyc_expired"))
        ).all()
    assert records == {"bank-a": "expired", "bank-b": "pending"} and len(audit) == 1
    assert "Alpha Settlement Bank" not in str(audit[0].after)  # no personal data in the audit entry

    async with sessions.begin() as session:  # bank-b (pending) sends PT: alerted in that block
        await pipeline.on_batch(batch(block(20, [(BANK_B, BANK_A, 10)])), session)
    async with sessions() as session:
        assert await _alerts(session, KYC_TRANSFER) == {"bank-b:": "firing"}
