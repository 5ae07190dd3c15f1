"""Screening at the head through the real alert pipeline and store: a transfer to a listed address is a P0
in its block; a new version delisting it closes the hit and resolves the alert; a false positive
disposition suppresses the pair for that list version; names of KYC'd parties are fuzzy-screened."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from compliance.helpers import DELISTED, FIXTURES, LISTED, batch, block, manifest
from fictra.alerting.models import Alert
from fictra.audit.models import AuditEntry
from fictra.clock import FakeClock
from fictra.compliance.config import ComplianceConfig, ScreeningConfig
from fictra.compliance.kyc import KycInput, upsert_kyc
from fictra.compliance.lists import import_list
from fictra.compliance.models import ScreeningHit
from fictra.compliance.monitor import SCREENING, ScreeningMonitor
from fictra.compliance.screening import dispose, load_index, rescreen
from fictra.monitors.pipeline import AlertPipeline

ALICE, BOB = "0x" + "11" * 20, "0x" + "22" * 20

EVERY_BLOCK = ComplianceConfig(screening=ScreeningConfig(reload_every=0))  # look at every block


async def _import(session: AsyncSession, name: str, clock: FakeClock, *, list_name: str = "ofac-sdn") -> None:
    fmt = "opensanctions_ftm" if name.endswith(".json") else "ofac_sdn_xml"
    data = (FIXTURES / name).read_bytes()
    await import_list(
        session, list_name=list_name, fmt=fmt, data=data, file_name=name, actor="co", clock=clock
    )
    index = await load_index(session)
    await rescreen(session, index=index, threshold=0.9, clock=clock, actor="co")


async def _alerts(session: AsyncSession) -> dict[str, tuple[str, str, int | None]]:
    rows = (await session.scalars(select(Alert).where(Alert.monitor == SCREENING))).all()
    return {a.labels["subject"]: (a.status, a.severity, a.block_number) for a in rows}


async def test_hit_delisting_and_false_positive(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    config = EVERY_BLOCK
    pipeline = AlertPipeline(
        monitors=[ScreeningMonitor(config=config, manifest=manifest(), clock=clock)], clock=clock
    )
    async with sessions.begin() as session:
        await _import(session, "sdn_advanced_v1.xml", clock)
    async with sessions.begin() as session:  # block 10: one transfer to each listed address, one clean
        await pipeline.on_batch(
            batch(block(10, [(ALICE, LISTED, 5), (BOB, DELISTED, 7), (ALICE, BOB, 1)])), session
        )
    async with sessions() as session:
        alerts = await _alerts(session)
        hit = await session.scalar(select(ScreeningHit).where(ScreeningHit.subject == LISTED))
    assert alerts == {LISTED: ("firing", "P0", 10), DELISTED: ("firing", "P0", 10)}  # within the block
    assert hit is not None and hit.evidence["direction"] == "to" and hit.evidence["list_version"] == 1
    async with sessions() as session:
        alert = await session.scalar(select(Alert).where(Alert.labels["subject"].as_string() == LISTED))
    assert alert is not None and alert.evidence["suggested_action"]["action"] == "PaymentToken.blockAddress"
    assert alert.evidence["list_version"] == "ofac-sdn v1" and alert.evidence["entry"] == "41001"

    async with sessions.begin() as session:  # v2 delists 41002: the re-screen closes its hit
        await _import(session, "sdn_advanced_v2.xml", clock)
    async with sessions() as session:
        states = dict((await session.execute(select(ScreeningHit.subject, ScreeningHit.state))).all())
    assert states == {LISTED: "open", DELISTED: "closed"}
    async with sessions.begin() as session:
        await pipeline.on_batch(batch(block(11, [(ALICE, BOB, 2)])), session)
    async with sessions() as session:
        alerts = await _alerts(session)
    assert alerts[DELISTED][0] == "resolved" and alerts[LISTED][0] == "firing"

    async with sessions.begin() as session:  # false positive for this version: cleared, not raised again
        assert hit is not None
        await dispose(
            session, hit_id=hit.id, reason="test wallet of our own, verified", actor="co", clock=clock
        )
    async with sessions.begin() as session:
        await pipeline.on_batch(batch(block(12, [(ALICE, LISTED, 3)])), session)
    async with sessions() as session:
        alerts = await _alerts(session)
        open_hits = (await session.scalars(select(ScreeningHit).where(ScreeningHit.state == "open"))).all()
        audit = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "compliance.hit_false_positive")
            )
        ).all()
    assert alerts[LISTED][0] == "resolved" and open_hits == []
    assert len(audit) == 1 and audit[0].reason == "test wallet of our own, verified"


async def test_name_screening_and_kyc_addresses(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        await upsert_kyc(
            session,
            KycInput(participant="cp-1", name="Alexandr Vinnikov", role="counterparty"),
            actor="co",
            clock=clock,
        )
        await upsert_kyc(
            session,
            KycInput(participant="bank-z", name="Zeta Clearing", addresses=(LISTED,)),
            actor="co",
            clock=clock,
        )
        await _import(session, "opensanctions.ftm.json", clock, list_name="opensanctions")
    async with sessions() as session:
        hits = (
            await session.execute(select(ScreeningHit.kind, ScreeningHit.subject, ScreeningHit.entry_key))
        ).all()
    assert sorted(hits) == [
        ("address", LISTED, "NK-lazarus-test"),  # a KYC'd participant's address is re-screened too
        ("name", "Alexandr Vinnikov", "ru-vinnikov-test"),  # transliterated variant of Александр Винников
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_indirect_exposure_decays_per_hop(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    carol, dave = "0x" + "33" * 20, "0x" + "44" * 20
    monitor = ScreeningMonitor(config=EVERY_BLOCK, manifest=manifest(), clock=clock)
    pipeline = AlertPipeline(monitors=[monitor], clock=clock)
    async with sessions.begin() as session:
        await _import(session, "sdn_advanced_v1.xml", clock)
    async with (
        sessions.begin() as session
    ):  # dave → carol → bob → alice → LISTED (alice 1 hop, bob 2, carol 3)
        await pipeline.on_batch(
            batch(block(30, [(dave, carol, 1), (carol, BOB, 1), (BOB, ALICE, 1)])), session
        )
    async with sessions.begin() as session:
        await pipeline.on_batch(batch(block(31, [(ALICE, LISTED, 1)])), session)
    async with sessions() as session:
        rows = (await session.scalars(select(Alert).where(Alert.monitor == "compliance.exposure"))).all()
    exposed = {a.labels["subject"]: (a.evidence["hop"], a.evidence["score"], a.severity) for a in rows}
    assert exposed == {
        ALICE: (1, 0.5, "P2"),
        BOB: (2, 0.25, "P2"),
    }  # carol is 3 hops away: beyond exposure_hops
