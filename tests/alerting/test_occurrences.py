"""Immutable history: every occurrence written once; a re-fire is a new occurrence; a reorg retracts exactly
the occurrences it removed (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fictra.alerting.findings import Finding, Severity
from fictra.alerting.models import AlertOccurrence
from fictra.alerting.queries import get_alert, list_alerts, list_occurrences
from fictra.alerting.service import apply_findings, retract_for_reorg
from fictra.chain.types import Reorg
from fictra.clock import FakeClock
from fictra.db.engine import session_factory

from .helpers import clear, finding


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as s:
        yield s


def _reorg(ancestor: int, depth: int) -> Reorg:
    return Reorg(
        network="devnet",
        common_ancestor=ancestor,
        depth=depth,
        old_hashes=tuple(f"0x{n:064x}" for n in range(ancestor + 1, ancestor + depth + 1)),
        new_hashes=tuple("0x" + f"{n:02x}" * 32 for n in range(depth)),
        detected_at_block=ancestor + depth + 1,
    )


async def test_a_reorg_dropping_the_second_occurrence_retracts_only_that_occurrence(
    session: AsyncSession, clock: FakeClock
) -> None:
    """Acceptance: a firing one-off event alert ("PT fee changed") occurs again at block 105; a reorg
    above block 103 drops that block: its occurrence is retracted, the alert keeps firing on the first
    occurrence, whose evidence and transactions it shows again."""
    await apply_findings(session, [finding(subject="fee", block=101, value=1)], [], head=101, clock=clock)
    clock.advance(10)
    await apply_findings(session, [finding(subject="fee", block=105, value=2)], [], head=105, clock=clock)
    await session.commit()
    [alert] = await list_alerts(session)
    assert (alert.count, alert.evidence["observed"]) == (2, 2)
    clock.advance(5)
    changes = await retract_for_reorg(session, reorg=_reorg(103, 3), clock=clock)
    await session.commit()
    assert changes == []  # the alert does not stop firing: its first occurrence stands
    [alert] = await list_alerts(session)
    assert (alert.status, alert.confirmation, alert.count) == ("firing", "confirmed", 1)
    assert alert.evidence["observed"] == 1
    assert alert.tx_hashes == [f"0x{1:064x}"]
    assert alert.block_number == 101
    occurrences = await list_occurrences(session, alert.id)
    assert [(o.block_number, o.kind, o.retracted_at is not None) for o in occurrences] == [
        (101, "fired", False),
        (105, "repeat", True),
    ]
    assert "reorg of depth 3" in (occurrences[1].retraction_reason or "")
    detail = await get_alert(session, str(alert.id))
    assert [h["block_number"] for h in detail.history] == [101]
    assert [(o.block_number, o.retracted_at is not None) for o in detail.occurrences] == [
        (101, False),
        (105, True),
    ]
    last = detail.events[-1]
    assert last.kind == "partly_retracted"
    assert last.details["occurrence_ids"] == [occurrences[1].id]
    assert last.details["standing_occurrence_id"] == occurrences[0].id
    # the same reorg reported twice changes nothing more
    assert await retract_for_reorg(session, reorg=_reorg(103, 3), clock=clock) == []
    [again] = await list_alerts(session)
    assert again.count == 1


async def test_a_reorg_removing_the_refire_retracts_that_episode_only(
    session: AsyncSession, clock: FakeClock
) -> None:
    """Fired at 101, resolved, re-fired at 110; a reorg above 105 removes the re-fire: the alert is
    retracted (the re-fire never happened) and shows the first occurrence's evidence again."""
    await apply_findings(session, [finding(subject="x", block=101, value=1)], [], head=101, clock=clock)
    await apply_findings(session, [], [clear(subject="x", block=102)], head=102, clock=clock)
    clock.advance(10)
    await apply_findings(session, [finding(subject="x", block=110, value=7)], [], head=110, clock=clock)
    changes = await retract_for_reorg(session, reorg=_reorg(105, 6), clock=clock)
    await session.commit()
    assert [c.kind.value for c in changes] == ["retracted"]
    [alert] = await list_alerts(session)
    assert (alert.status, alert.confirmation, alert.count) == ("resolved", "retracted", 1)
    assert alert.evidence["observed"] == 1
    kinds = [(o.kind, o.retracted_at is not None) for o in await list_occurrences(session, alert.id)]
    assert kinds == [("fired", False), ("refired", True)]


async def test_timeline_entries_are_written_once(session: AsyncSession, clock: FakeClock) -> None:
    """The fired entry keeps block 210 and its summary after the alert re-fires at block 628."""
    await apply_findings(session, [finding(subject="h", block=210, value=1)], [], head=210, clock=clock)
    await apply_findings(session, [], [clear(subject="h", block=211)], head=211, clock=clock)
    clock.advance(60)
    high = Finding(
        monitor="large-transfer",
        severity=Severity.P0,
        summary="much larger",
        labels={"subject": "h", "team": "ops"},
        block=None,
    )
    await apply_findings(session, [finding(subject="h", block=628, value=9), high], [], head=628, clock=clock)
    await session.commit()
    [alert] = await list_alerts(session)
    detail = await get_alert(session, str(alert.id))
    fired, _resolved, refired = detail.events
    assert (fired.kind, fired.details["block_number"], fired.details["severity"]) == ("fired", 210, "P1")
    assert fired.details["summary"] == "large-transfer on h: 1"
    assert (refired.kind, refired.details["block_number"]) == ("refired", 628)
    occurrences = await list_occurrences(session, alert.id)
    assert fired.details["occurrence_id"] == occurrences[0].id
    assert refired.details["occurrence_id"] == occurrences[1].id
    assert occurrences[0].evidence["observed"] == 1  # never rewritten
    assert alert.block_number == 628


async def test_a_repeated_delivery_of_one_occurrence_is_counted_once(
    session: AsyncSession, clock: FakeClock
) -> None:
    def sent(starts: str) -> Finding:
        return Finding(
            monitor="alertmanager/Disk",
            severity=Severity.P2,
            summary="disk",
            labels={"instance": "a"},
            network="external",
            occurrence_key=starts,
        )

    await apply_findings(session, [sent("t1"), sent("t1")], [], head=None, clock=clock)
    await apply_findings(session, [sent("t1")], [], head=None, clock=clock)
    [alert] = await list_alerts(session)
    assert alert.count == 1
    await apply_findings(session, [sent("t2")], [], head=None, clock=clock)
    await session.commit()
    [alert] = await list_alerts(session)
    assert alert.count == 2
    rows = (await session.execute(select(AlertOccurrence.occurrence_key))).scalars().all()
    assert sorted(rows) == ["t1", "t2"]
