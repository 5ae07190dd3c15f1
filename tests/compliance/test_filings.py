"""The regulatory filings calendar (a missed due date alerts on the injected clock, clears when filed) and a
regulator's Atom feed (a local file) whose new items become triage tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from compliance.helpers import FIXTURES
from fictra.alerting.models import Alert
from fictra.clock import FakeClock
from fictra.compliance.config import ComplianceConfig
from fictra.compliance.filing_models import FeedItem
from fictra.compliance.filings import (
    FeedsMonitor,
    FilingsMonitor,
    calendar,
    mark_filed,
    triage,
)
from fictra.errors import ConflictError
from fictra.monitors.pipeline import AlertPipeline

CONFIG = ComplianceConfig.model_validate(
    {
        "filings": [
            {
                "name": "monthly-transactions",
                "authority": "FIU",
                "period": "monthly",
                "due_days": 10,
                "since": "2027-01-01",
            },
            {
                "name": "aml-annual",
                "authority": "Central Bank",
                "period": "annual",
                "due_days": 90,
                "since": "2027-01-01",
            },
        ],
        "feeds": [{"name": "fiu", "source": "regulator.atom"}],
    }
)


def test_calendar() -> None:
    due = calendar(CONFIG, now=datetime(2027, 2, 5, tzinfo=UTC), back=1, ahead=0)
    assert [(d.filing.name, d.period, f"{d.due_at:%Y-%m-%d}") for d in due] == [
        ("monthly-transactions", "2027-01", "2027-02-11"),
        ("monthly-transactions", "2027-02", "2027-03-11"),
        ("aml-annual", "2026", "2027-04-01"),
        ("aml-annual", "2027", "2028-03-31"),
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_missed_filing_and_feed_triage(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(datetime(2027, 2, 5, tzinfo=UTC))
    pipeline = AlertPipeline(monitors=[], clock=clock)
    filings = FilingsMonitor(config=CONFIG, clock=clock, network="devnet")
    feeds = FeedsMonitor(config=CONFIG, clock=clock, network="devnet", base_dir=FIXTURES)

    async def poll(monitor: FilingsMonitor | FeedsMonitor) -> dict[str, str]:
        async with sessions.begin() as s:
            await pipeline.ingest(s, await monitor.poll(s), network="devnet", head=None)
        async with sessions() as s:
            rows = (await s.scalars(select(Alert).where(Alert.monitor == monitor.name))).all()
            return {
                f"{a.labels.get('filing', a.labels.get('condition'))}:{a.labels.get('period', '')}": a.status
                for a in rows
            }

    assert await poll(filings) == {}  # January's report is due on 11 February
    clock.advance(timedelta(days=7).total_seconds())  # 12 February: missed
    assert await poll(filings) == {"monthly-transactions:2027-01": "firing"}
    async with sessions.begin() as s:
        await mark_filed(
            s,
            config=CONFIG,
            name="monthly-transactions",
            period="2027-01",
            reference="FIU-R-88",
            actor="co",
            clock=clock,
        )
    with pytest.raises(ConflictError, match="filed already"):
        async with sessions.begin() as s:
            await mark_filed(
                s,
                config=CONFIG,
                name="monthly-transactions",
                period="2027-01",
                reference="x",
                actor="co",
                clock=clock,
            )
    assert await poll(filings) == {"monthly-transactions:2027-01": "resolved"}

    assert await poll(feeds) == {"triage:": "firing"}
    async with sessions() as s:
        items = (await s.scalars(select(FeedItem).order_by(FeedItem.id))).all()
    assert [i.title for i in items] == [
        "Updated guidance on virtual asset travel rule thresholds",
        "New reporting template for suspicious transaction reports",
    ]
    assert await poll(feeds) == {"triage:": "firing"}  # read again: nothing new filed twice
    async with sessions.begin() as s:
        for item in items:
            await triage(s, item_id=item.id, note="reviewed: see change request", actor="co", clock=clock)
    assert await poll(feeds) == {"triage:": "resolved"}
    async with sessions() as s:
        assert len((await s.scalars(select(FeedItem))).all()) == 2
