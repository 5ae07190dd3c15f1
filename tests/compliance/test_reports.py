"""Transaction reports per period from the transfers the screening monitor persisted, and a regulatory
filing generated from its template, reviewed, approved and filed (injected clock)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from compliance.helpers import FT, batch, block, manifest
from fictra.alerting.models import Alert
from fictra.auth.actor import Actor
from fictra.chain.types import Reorg
from fictra.clock import FakeClock
from fictra.compliance.config import ComplianceConfig
from fictra.compliance.filing_drafts import approve, file_draft, generate, review
from fictra.compliance.filing_models import Filing
from fictra.compliance.filings import FilingsMonitor
from fictra.compliance.kyc import KycInput, upsert_kyc
from fictra.compliance.monitor import ScreeningMonitor
from fictra.compliance.report_models import TransferRow
from fictra.compliance.reports import report_csv, transaction_report
from fictra.errors import ConflictError, PermissionDeniedError, UsageError
from fictra.monitors.pipeline import AlertPipeline

ALICE, BOB, CAROL = "0x" + "a0" * 20, "0x" + "b0" * 20, "0x" + "c0" * 20
E18 = 10**18
JAN = int(datetime(2027, 1, 20, tzinfo=UTC).timestamp())
FEB = int(datetime(2027, 2, 3, tzinfo=UTC).timestamp())
CONFIG = ComplianceConfig.model_validate(
    {
        "aml": {"large_amount": 1000, "enabled": False},
        "filings": [
            {
                "name": "monthly-transactions",
                "authority": "FIU",
                "period": "monthly",
                "due_days": 10,
                "since": "2027-01-01",
                "template": "fiu-monthly.txt.j2",
            }
        ],
    }
)


def _actor(name: str, role: str) -> Actor:
    return Actor(None, name, (role,), frozenset(), "api")


async def _seed(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> ScreeningMonitor:
    """KYC for alice (DE) and bob (SG); January and February transfers through the screening monitor."""
    async with sessions.begin() as s:
        for who, address, country in (("alice", ALICE, "de"), ("bob", BOB, "SG")):
            await upsert_kyc(
                s,
                KycInput(
                    participant=who,
                    name=who.title(),
                    status="approved",
                    addresses=(address,),
                    country=country,
                ),
                actor="co",
                clock=clock,
            )
    monitor = ScreeningMonitor(config=CONFIG, manifest=manifest(), clock=clock)
    blocks = [
        block(10, [(ALICE, BOB, 1500 * E18), (BOB, ALICE, 20 * E18), (ALICE, CAROL, 5 * E18)], ts=JAN),
        block(11, [(ALICE, BOB, 7 * E18)], token=FT, ts=JAN + 2),
        block(12, [(ALICE, BOB, 3 * E18)], ts=FEB),
    ]
    for b in blocks:
        async with sessions.begin() as s:
            await monitor.on_batch(batch(b), s)
    return monitor


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_transaction_report_per_period(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _seed(sessions, clock)
    async with sessions() as s:
        assert len((await s.scalars(select(TransferRow))).all()) == 5
        report = await transaction_report(
            s, config=CONFIG, start=datetime(2027, 1, 1, tzinfo=UTC), end=datetime(2027, 2, 1, tzinfo=UTC)
        )
        with pytest.raises(UsageError, match="period is empty"):
            await transaction_report(
                s, config=CONFIG, start=datetime(2027, 2, 1, tzinfo=UTC), end=datetime(2027, 1, 1, tzinfo=UTC)
            )
    assert report["totals"] == {
        "FoundationToken": {"count": 1, "amount": "7"},
        "PaymentToken": {"count": 3, "amount": "1525"},  # February's transfer is outside the period
    }
    volumes = {
        (p["participant"], p["token"]): (
            p["country"],
            p["sent_count"],
            p["sent"],
            p["received_count"],
            p["received"],
        )
        for p in report["participants"]
    }
    assert volumes == {
        ("alice", "PaymentToken"): ("DE", 2, "1505", 1, "20"),
        ("alice", "FoundationToken"): ("DE", 1, "7", 0, "0"),
        ("bob", "PaymentToken"): ("SG", 1, "20", 1, "1500"),
        ("bob", "FoundationToken"): ("SG", 0, "0", 1, "7"),
        ("unattributed", "PaymentToken"): ("??", 0, "0", 1, "5"),
    }
    assert [
        (x["from_participant"], x["to_participant"], x["amount"], x["block"])
        for x in report["large_transfers"]
    ] == [("alice", "bob", "1500", 10)]
    assert {(c["country"], c["token"]): (c["count"], c["amount"]) for c in report["countries"]} == {
        ("DE", "PaymentToken"): (2, "1505"),
        ("DE", "FoundationToken"): (1, "7"),
        ("SG", "PaymentToken"): (1, "20"),
    }
    monitor = ScreeningMonitor(config=CONFIG, manifest=manifest(), clock=clock)
    async with sessions.begin() as s:  # block 12 (February) reorged away: its transfer leaves the table
        await monitor.on_reorg(Reorg(network="devnet", common_ancestor=11, depth=1, old_hashes=("0x12",)), s)
    async with sessions() as s:
        assert sorted({r.block_number for r in (await s.scalars(select(TransferRow))).all()}) == [10, 11]
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))
    assert {(r["section"], r["key"], r["token"]): (r["count"], r["amount"]) for r in rows}[
        ("large", "alice->bob", "PaymentToken")
    ] == ("1", "1500")
    assert sum(1 for r in rows if r["section"] == "country") == 3


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_filing_generated_reviewed_approved_filed(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2027, 2, 12, tzinfo=UTC))  # January's filing was due on 11 February
    await _seed(sessions, clock)
    (tmp_path / "fiu-monthly.txt.j2").write_text(
        "To {{ filing.authority }}: {{ filing.name }} {{ filing.period }}\n"
        "{% for x in report.large_transfers %}LARGE {{ x.from_participant }}>{{ x.to_participant }} "
        "{{ x.amount }}\n{% endfor %}"
    )
    pipeline = AlertPipeline(monitors=[], clock=clock)
    monitor = FilingsMonitor(config=CONFIG, clock=clock, network="devnet")

    async def alerts() -> dict[str, str]:
        async with sessions.begin() as s:
            await pipeline.ingest(s, await monitor.poll(s), network="devnet", head=None)
        async with sessions() as s:
            rows = (await s.scalars(select(Alert).where(Alert.monitor == monitor.name))).all()
            return {a.labels["period"]: a.status for a in rows}

    assert await alerts() == {"2027-01": "firing"}
    gen = dict(config=CONFIG, name="monthly-transactions", period="2027-01", base_dir=tmp_path, clock=clock)
    async with sessions.begin() as s:
        draft = await generate(s, actor="co", **gen)  # type: ignore[arg-type]
        draft_id = draft.id
        assert draft.body == "To FIU: monthly-transactions 2027-01\nLARGE alice>bob 1500\n"
    reviewer, officer = _actor("rita", "compliance_officer"), _actor("olive", "compliance_officer")
    with pytest.raises(ConflictError, match="only a reviewed"):
        async with sessions.begin() as s:
            await approve(s, draft_id=draft_id, actor=officer, clock=clock)
    async with sessions.begin() as s:
        await review(
            s, draft_id=draft_id, note="volumes checked against the ledger", actor=reviewer, clock=clock
        )
    with pytest.raises(ConflictError, match="not approved"):
        async with sessions.begin() as s:
            await file_draft(
                s, config=CONFIG, draft_id=draft_id, reference="FIU-1", actor=officer, clock=clock
            )
    with pytest.raises(ConflictError, match="someone else"):
        async with sessions.begin() as s:
            await approve(s, draft_id=draft_id, actor=reviewer, clock=clock)
    with pytest.raises(PermissionDeniedError, match="compliance_officer"):
        async with sessions.begin() as s:
            await approve(s, draft_id=draft_id, actor=_actor("vic", "viewer"), clock=clock)
    async with sessions.begin() as s:
        verdict = await approve(s, draft_id=draft_id, actor=officer, clock=clock)
        assert verdict.satisfied
    clock.advance(timedelta(hours=2).total_seconds())
    async with sessions.begin() as s:  # February is still running: its draft is a preview, not filed
        feb = await generate(s, actor="co", **{**gen, "period": "2027-02"})  # type: ignore[arg-type]
        await review(s, draft_id=feb.id, note="preview only", actor=reviewer, clock=clock)
        await approve(s, draft_id=feb.id, actor=officer, clock=clock)
        feb_id = feb.id
    with pytest.raises(ConflictError, match="runs until 2027-03-01"):
        async with sessions.begin() as s:
            await file_draft(s, config=CONFIG, draft_id=feb_id, reference="X", actor=officer, clock=clock)
    async with sessions.begin() as s:
        filed = await file_draft(
            s, config=CONFIG, draft_id=draft_id, reference="FIU-2027-0113", actor=officer, clock=clock
        )
        assert filed.state == "filed"
    async with sessions() as s:
        row = await s.scalar(select(Filing).where(Filing.name == "monthly-transactions"))
        assert row is not None and (row.period_label, row.reference) == ("2027-01", "FIU-2027-0113")
    assert await alerts() == {"2027-01": "resolved"}
    with pytest.raises(ConflictError, match="filed already"):
        async with sessions.begin() as s:
            await generate(s, actor="co", **gen)  # type: ignore[arg-type]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_filing_template_errors_name_the_key(
    sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    clock = FakeClock(datetime(2027, 2, 12, tzinfo=UTC))
    gen = dict(config=CONFIG, name="monthly-transactions", period="2027-01", base_dir=tmp_path, clock=clock)
    with pytest.raises(UsageError, match=r"filings.monthly-transactions.template: cannot read"):
        async with sessions.begin() as s:
            await generate(s, actor="co", **gen)  # type: ignore[arg-type]
    (tmp_path / "fiu-monthly.txt.j2").write_text("{{ filing.nope }}")
    with pytest.raises(UsageError, match=r"filings.monthly-transactions.template: 'fiu-monthly.txt.j2'"):
        async with sessions.begin() as s:
            await generate(s, actor="co", **gen)  # type: ignore[arg-type]
