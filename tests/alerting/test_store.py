"""The alert store on SQLite and PostgreSQL: dedup, resolve/refire, confirmations, retraction, deadlines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fictra.alerting.config import AlertingConfig, AlertPolicy
from fictra.alerting.findings import Finding, Severity
from fictra.alerting.models import Alert, AlertEvent, EventKind
from fictra.alerting.queries import get_alert, list_alerts
from fictra.alerting.service import apply_findings, confirm_up_to, retract_for_reorg
from fictra.chain.types import Reorg
from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.errors import NotFoundError, UsageError

from .helpers import clear, finding


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with session_factory(engine)() as s:
        yield s


async def _count(session: AsyncSession, model: type[Alert] | type[AlertEvent]) -> int:
    return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_thousand_findings_of_one_condition_are_one_alert(
    session: AsyncSession, clock: FakeClock
) -> None:
    findings = [finding(value=i) for i in range(1000)]
    result = await apply_findings(session, findings, [], head=100, clock=clock)
    await session.commit()
    assert await _count(session, Alert) == 1
    [alert] = await list_alerts(session)
    assert alert.count == 1000
    assert alert.evidence["observed"] == 999  # latest evidence kept
    assert alert.evidence["raw"] == "0x0102"
    assert alert.tx_hashes == [f"0x{999:064x}"]
    assert [c.kind for c in result.changes] == [EventKind.FIRED]
    detail = await get_alert(session, str(alert.id))
    assert len(detail.history) == 20  # bounded
    assert detail.history[-1]["evidence"]["observed"] == 999
    # a later batch of the same condition still updates the one alert
    clock.advance(60)
    await apply_findings(session, [finding(value=5)] * 3, [], head=101, clock=clock)
    await session.commit()
    [alert] = await list_alerts(session)
    assert alert.count == 1003
    assert alert.first_seen == clock.now() - timedelta(seconds=60)
    assert alert.last_seen == clock.now()
    assert await _count(session, AlertEvent) == 1  # occurrences are not timeline events


async def test_firing_resolved_refired(session: AsyncSession, clock: FakeClock) -> None:
    await apply_findings(session, [finding()], [], head=100, clock=clock)
    clock.advance(30)
    res = await apply_findings(session, [], [clear()], head=101, clock=clock)
    assert [c.kind for c in res.changes] == [EventKind.RESOLVED]
    [alert] = await list_alerts(session)
    assert alert.status == "resolved"
    assert alert.resolved_at == clock.now()
    # a clear for a resolved or unknown condition does nothing
    res = await apply_findings(session, [], [clear(), clear(subject="0xnever")], head=101, clock=clock)
    assert res.changes == []
    clock.advance(30)
    res = await apply_findings(session, [finding(block=105)], [], head=105, clock=clock)
    assert [c.kind for c in res.changes] == [EventKind.REFIRED]
    await session.commit()
    [alert] = await list_alerts(session)
    assert (alert.status, alert.count, alert.resolved_at) == ("firing", 2, None)
    assert alert.fired_at == clock.now()
    assert alert.block_number == 105
    detail = await get_alert(session, alert.fingerprint[:8])
    assert [e.kind for e in detail.events] == ["fired", "resolved", "refired"]


async def test_clear_in_same_batch_older_than_finding_is_ignored(
    session: AsyncSession, clock: FakeClock
) -> None:
    await apply_findings(session, [finding(block=10)], [clear(block=9)], head=10, clock=clock)
    [alert] = await list_alerts(session)
    assert alert.status == "firing"
    await apply_findings(session, [finding(block=11)], [clear(block=12)], head=12, clock=clock)
    [alert] = await list_alerts(session)
    assert alert.status == "resolved"


async def test_provisional_until_required_depth_then_confirmed(
    session: AsyncSession, clock: FakeClock
) -> None:
    await apply_findings(session, [finding(block=100, confirmations=3)], [], head=100, clock=clock)
    [alert] = await list_alerts(session)
    assert alert.confirmation == "provisional"  # visible at the head
    assert await confirm_up_to(session, network="devnet", head=101, clock=clock) == []
    changes = await confirm_up_to(session, network="devnet", head=102, clock=clock)  # 3 confirmations
    assert [c.kind for c in changes] == [EventKind.CONFIRMED]
    assert await confirm_up_to(session, network="devnet", head=110, clock=clock) == []
    [alert] = await list_alerts(session, confirmation="confirmed")
    assert alert.block_number == 100
    # continued occurrences in later blocks do not move the anchor of a confirmed alert
    await apply_findings(session, [finding(block=120, confirmations=3)], [], head=120, clock=clock)
    [alert] = await list_alerts(session)
    assert (alert.confirmation, alert.block_number) == ("confirmed", 100)


async def test_deep_or_blockless_findings_are_confirmed_at_once(
    session: AsyncSession, clock: FakeClock
) -> None:
    await apply_findings(
        session, [finding(subject="a", block=None, confirmations=5)], [], head=None, clock=clock
    )
    await apply_findings(
        session, [finding(subject="b", block=90, confirmations=5)], [], head=100, clock=clock
    )
    await apply_findings(
        session, [finding(subject="c", block=100, confirmations=0)], [], head=100, clock=clock
    )
    alerts = await list_alerts(session)
    assert {a.labels["subject"]: a.confirmation for a in alerts} == {
        "a": "confirmed",
        "b": "confirmed",
        "c": "confirmed",
    }


async def test_reorg_retracts_and_keeps_the_alert(session: AsyncSession, clock: FakeClock) -> None:
    await apply_findings(
        session, [finding(subject="gone", block=101, confirmations=5)], [], head=101, clock=clock
    )
    await apply_findings(
        session, [finding(subject="kept", block=99, confirmations=5)], [], head=101, clock=clock
    )
    await apply_findings(session, [finding(subject="nobl", block=None)], [], head=101, clock=clock)
    clock.advance(5)
    reorg = Reorg(
        network="devnet",
        common_ancestor=100,
        depth=1,
        old_hashes=(f"0x{101:064x}",),
        new_hashes=("0x" + "ee" * 32,),
        detected_at_block=102,
    )
    changes = await retract_for_reorg(session, reorg=reorg, clock=clock)
    await session.commit()
    assert len(changes) == 1
    [retracted] = await list_alerts(session, confirmation="retracted")
    assert retracted.labels["subject"] == "gone"
    assert retracted.status == "resolved"
    assert "reorg of depth 1" in (retracted.retraction_reason or "")
    assert await _count(session, Alert) == 3  # nothing deleted
    detail = await get_alert(session, str(retracted.id))
    assert detail.events[-1].kind == "retracted"
    assert detail.events[-1].details["reorg"]["common_ancestor"] == 100
    # a second report of the same reorg changes nothing; the condition recurring on the new chain refires
    assert await retract_for_reorg(session, reorg=reorg, clock=clock) == []
    res = await apply_findings(
        session, [finding(subject="gone", block=101, confirmations=5)], [], head=101, clock=clock
    )
    assert [c.kind for c in res.changes] == [EventKind.REFIRED]
    [again] = await list_alerts(session, labels={"subject": "gone"})
    # the retracted occurrence no longer counts: one standing occurrence
    assert (again.confirmation, again.status, again.count) == ("provisional", "firing", 1)


@pytest.mark.parametrize(
    ("severity", "minutes"), [(Severity.P0, 15), (Severity.P1, 60), (Severity.P2, 240), (Severity.P3, 1440)]
)
async def test_ack_deadline_is_the_runbook_response_time(
    session: AsyncSession, clock: FakeClock, severity: Severity, minutes: int
) -> None:
    await apply_findings(session, [finding(severity=severity)], [], head=100, clock=clock)
    [alert] = await list_alerts(session)
    assert alert.ack_deadline - alert.fired_at == timedelta(minutes=minutes)


async def test_ack_deadline_from_config_and_escalation(session: AsyncSession, clock: FakeClock) -> None:
    config = AlertingConfig.model_validate({"ack_deadlines": {"P0": "5m", "P2": 600}})
    policy = AlertPolicy.from_config(config)
    start = clock.now()
    await apply_findings(session, [finding(severity=Severity.P2)], [], head=1, clock=clock, policy=policy)
    [alert] = await list_alerts(session)
    assert alert.ack_deadline == start + timedelta(minutes=10)
    clock.advance(60)
    await apply_findings(session, [finding(severity=Severity.P0)], [], head=2, clock=clock, policy=policy)
    [alert] = await list_alerts(session)
    assert (alert.severity, alert.ack_deadline) == ("P0", start + timedelta(minutes=5))


async def test_list_filters(session: AsyncSession, clock: FakeClock) -> None:
    await apply_findings(session, [finding(subject="a", severity=Severity.P0)], [], head=1, clock=clock)
    clock.advance(3600)
    since = clock.now()
    await apply_findings(session, [finding(subject="b", severity=Severity.P2)], [], head=2, clock=clock)
    await apply_findings(
        session, [finding(subject="c", severity=Severity.P2, network="testnet")], [], head=2, clock=clock
    )
    await apply_findings(session, [], [clear(subject="b")], head=3, clock=clock)
    subjects = lambda alerts: sorted(a.labels["subject"] for a in alerts)  # noqa: E731
    assert subjects(await list_alerts(session)) == ["a", "b", "c"]
    assert subjects(await list_alerts(session, status="firing")) == ["a", "c"]
    assert subjects(await list_alerts(session, severity="p2")) == ["b", "c"]
    assert subjects(await list_alerts(session, severity=["P0", "P2"], status="firing")) == ["a", "c"]
    assert subjects(await list_alerts(session, labels={"subject": "b", "team": "ops"})) == ["b"]
    assert subjects(await list_alerts(session, labels={"team": "dev"})) == []
    assert subjects(await list_alerts(session, since=since)) == ["b", "c"]
    assert subjects(await list_alerts(session, network="testnet")) == ["c"]
    assert len(await list_alerts(session, limit=1)) == 1
    with pytest.raises(UsageError, match="Status 'open' is not one of: firing, resolved"):
        await list_alerts(session, status="open")
    with pytest.raises(UsageError, match="Severity 'P9'"):
        await list_alerts(session, severity="P9")


async def test_get_alert_errors(session: AsyncSession, clock: FakeClock) -> None:
    with pytest.raises(NotFoundError, match="No alert with id or fingerprint prefix '42'"):
        await get_alert(session, "42")
    with pytest.raises(UsageError, match="neither an id nor a fingerprint prefix"):
        await get_alert(session, "xyz!")
    with pytest.raises(NotFoundError):
        await get_alert(session, "abcdef")


async def test_store_never_commits_the_callers_session(engine: AsyncEngine, clock: FakeClock) -> None:
    async with session_factory(engine)() as s:
        await apply_findings(s, [finding()], [], head=100, clock=clock)
        await s.rollback()
    async with session_factory(engine)() as s:
        assert await _count(s, Alert) == 0


async def test_get_alert_by_all_digit_fingerprint_prefix(session: AsyncSession, clock: FakeClock) -> None:
    subject = next(
        s for s in (f"s{i}" for i in range(10_000)) if finding(subject=s).fingerprint[:6].isdigit()
    )
    await apply_findings(session, [finding(subject=subject)], [], head=1, clock=clock)
    detail = await get_alert(session, finding(subject=subject).fingerprint[:6])
    assert detail.labels["subject"] == subject


async def test_evidence_with_huge_ints_nan_and_objects_is_stored(
    session: AsyncSession, clock: FakeClock
) -> None:
    f = finding()
    odd = Finding(
        monitor=f.monitor,
        severity=f.severity,
        summary=f.summary,
        labels=f.labels,
        block=f.block,
        evidence={
            "wei": 10**30,
            "z": float("inf"),
            "ratio": float("nan"),
            "when": clock.now(),
            "set": {1},
            "obj": ValueError("boom"),
        },
    )
    await apply_findings(session, [odd], [], head=100, clock=clock)
    await session.commit()
    [alert] = await list_alerts(session)
    assert alert.evidence["wei"] == 10**30
    assert (alert.evidence["z"], alert.evidence["ratio"], alert.evidence["set"]) == ("inf", "nan", [1])
    assert alert.evidence["when"] == clock.now().isoformat()
    assert alert.evidence["obj"] == "boom"


async def test_retracting_a_resolved_alert_keeps_its_resolution_time(
    session: AsyncSession, clock: FakeClock
) -> None:
    await apply_findings(session, [finding(block=50)], [], head=50, clock=clock)
    clock.advance(10)
    await apply_findings(session, [], [clear()], head=51, clock=clock)
    resolved_at = clock.now()
    clock.advance(10)
    changes = await retract_for_reorg(session, reorg=Reorg("devnet", 49, 2, ()), clock=clock)
    assert [c.kind for c in changes] == [EventKind.RETRACTED]
    [alert] = await list_alerts(session)
    assert (alert.status, alert.confirmation, alert.resolved_at) == ("resolved", "retracted", resolved_at)
    assert await retract_for_reorg(session, reorg=Reorg("other-net", 0, 1, ()), clock=clock) == []


async def test_reads_in_the_same_session_see_the_bulk_writes(session: AsyncSession, clock: FakeClock) -> None:
    await apply_findings(session, [finding(block=10, confirmations=2)], [], head=10, clock=clock)
    [before] = await list_alerts(session)
    detail = await get_alert(session, str(before.id))
    assert (before.confirmation, detail.count) == ("provisional", 1)
    await apply_findings(
        session, [finding(block=11, confirmations=2)], [clear(block=12)], head=12, clock=clock
    )
    await confirm_up_to(session, network="devnet", head=12, clock=clock)
    [after] = await list_alerts(session)
    assert (after.status, after.confirmation, after.count) == ("resolved", "confirmed", 2)
    assert (await get_alert(session, after.fingerprint[:12])).status == "resolved"
