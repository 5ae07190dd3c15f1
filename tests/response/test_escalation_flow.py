"""Escalation end to end through the alert store, on SQLite and PostgreSQL, driven by a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import Severity
from fictra.alerting.models import Alert
from fictra.clock import FakeClock
from fictra.monitors.base import MonitorOutput
from fictra.response.models import AlertResponse, OncallOverride

from .helpers import Harness, finding, levels, make_config, oncall

MIN = 60.0


async def _ack(sessions: async_sessionmaker[AsyncSession], alert_id: int, clock: FakeClock) -> None:
    """Acknowledge as the alert store records it (what alerting.actions.acknowledge writes)."""
    async with sessions.begin() as session:
        await session.execute(
            update(Alert)
            .where(Alert.id == alert_id)
            .values(acknowledged_at=clock.now(), acknowledged_by="alice")
        )


async def test_unacknowledged_p0_escalates_level_by_level(sessions, clock) -> None:
    h = Harness(sessions, clock, make_config())
    [alert_id] = await h.fire(finding())
    assert levels(await h.steps(alert_id)) == [("first_level_support", ["alice"], "fired")]
    clock.advance(15 * MIN - 1)
    result = await h.tick()
    assert result.escalated == [] and result.ack_breaches == []
    clock.advance(1)
    result = await h.tick()
    assert result.escalated == [alert_id] and result.ack_breaches == [alert_id]
    clock.advance(15 * MIN)
    await h.tick()
    clock.advance(15 * MIN)
    await h.tick()
    steps = await h.steps(alert_id)
    assert levels(steps) == [
        ("first_level_support", ["alice"], "fired"),
        ("technical_lead", ["bob"], "timeout"),
        ("system_architect", ["carol"], "timeout"),
        ("executive_team", ["dave"], "timeout"),
    ]
    start = steps[0].at
    assert [s.at - start for s in steps] == [timedelta(minutes=m) for m in (0, 15, 30, 45)]
    clock.advance(60 * MIN)
    assert (await h.tick()).escalated == []  # path exhausted, no repeat
    outbox = await h.outbox()
    sent = [n for n in outbox if n.idempotency_key.startswith("escalation:")]
    assert [n.receiver for n in outbox if n.idempotency_key.startswith("group:")] == ["ops-log"]  # routed
    assert [(n.receiver, n.channel, n.message["fields"]["person"]) for n in sent] == [
        ("ops-email", "email", "alice"),
        ("ops-webhook", "webhook", "bob"),
        ("ops-webhook", "log", "bob"),  # every channel of the person's receiver
        ("ops-webhook", "webhook", "carol"),
        ("ops-webhook", "log", "carol"),
        ("ops-email", "email", "dave"),
    ]
    assert all(n.alert_id == alert_id and n.message["severity"] == "P0" for n in sent)
    assert [(b.kind, b.severity, b.team) for b in await h.breaches()] == [("acknowledge", "P0", "operations")]


async def test_acknowledging_stops_escalation(sessions, clock) -> None:
    h = Harness(sessions, clock, make_config())
    [alert_id] = await h.fire(finding())
    clock.advance(10 * MIN)
    await _ack(sessions, alert_id, clock)
    for _ in range(4):
        clock.advance(15 * MIN)
        assert (await h.tick()).escalated == []
    assert len(await h.steps(alert_id)) == 1
    assert await h.breaches() == []


async def test_resolve_breach_escalates_again_after_acknowledgement(sessions, clock) -> None:
    h = Harness(sessions, clock, make_config())
    [alert_id] = await h.fire(finding())
    clock.advance(5 * MIN)
    await _ack(sessions, alert_id, clock)
    clock.advance(4 * 60 * MIN - 5 * MIN - 1)  # P0 resolve deadline: 4h
    assert (await h.tick()).resolve_breaches == []
    clock.advance(1)
    result = await h.tick()
    assert result.resolve_breaches == [alert_id] and result.escalated == [alert_id]
    assert levels(await h.steps(alert_id))[-1] == ("technical_lead", ["bob"], "resolve_breach")
    clock.advance(60 * MIN)
    assert (await h.tick()).escalated == []  # acknowledged: one level up, not a new chase
    assert [b.kind for b in await h.breaches()] == ["resolve"]


async def test_nobody_on_call_skips_to_next_level(sessions, clock) -> None:
    empty = oncall(
        schedules=[
            {
                "name": "first-line",
                "rotations": [
                    {
                        "name": "later",
                        "people": ["alice"],
                        "start": "2026-06-01T09:00:00+00:00",
                        "shift": "7d",
                    }
                ],
            }
        ]
    )
    people = {k: v for k, v in oncall().model_dump()["people"].items()}
    people["alice"]["roles"] = []
    h = Harness(
        sessions,
        clock,
        make_config(oncall_cfg=empty.model_copy(update={"people": oncall(people=people).people})),
    )
    [alert_id] = await h.fire(finding())
    steps = await h.steps(alert_id)
    assert levels(steps) == [("technical_lead", ["bob"], "fired")]
    assert steps[0].skipped == ["first_level_support"]


async def test_override_puts_someone_else_on_call(sessions, clock) -> None:
    h = Harness(sessions, clock, make_config())
    async with sessions.begin() as session:
        session.add(
            OncallOverride(
                schedule="first-line",
                person="carol",
                starts_at=clock.now() - timedelta(hours=1),
                ends_at=clock.now() + timedelta(hours=1),
                source="manual",
                created_by="test",
                details={},
            )
        )
    [alert_id] = await h.fire(finding())
    # alice still has the first_level_support role; carol is on call through the override
    assert levels(await h.steps(alert_id)) == [("first_level_support", ["alice", "carol"], "fired")]


async def test_day_of_week_conditions_pick_the_policy(sessions) -> None:
    escalation = {
        "policies": [
            {
                "name": "weekend",
                "when": {"days": ["sat", "sun"]},
                "levels": [{"name": "lead-at-weekend", "notify": {"people": ["bob"]}}],
            },
            {
                "name": "weekday",
                "when": {"days": ["mon", "tue", "wed", "thu", "fri"], "severities": ["P0", "P1"]},
                "levels": [{"name": "support", "notify": {"people": ["alice"]}}],
            },
        ]
    }
    saturday = FakeClock(datetime(2026, 1, 3, 12, 0, tzinfo=UTC))
    h = Harness(sessions, saturday, make_config(escalation=escalation))
    [sat_alert] = await h.fire(finding("sat"))
    saturday.advance(2 * 86400)  # Monday
    [mon_alert] = await h.fire(finding("mon"))
    [low_alert] = await h.fire(finding("low", Severity.P3))  # no weekday policy for P3
    assert levels(await h.steps(sat_alert)) == [("lead-at-weekend", ["bob"], "fired")]
    assert levels(await h.steps(mon_alert)) == [("support", ["alice"], "fired")]
    assert await h.steps(low_alert) == []


async def test_repeat_loops_over_the_levels(sessions, clock) -> None:
    escalation = {
        "policies": [
            {
                "name": "loop",
                "repeat": 1,
                "levels": [{"name": "only", "notify": {"people": ["alice"]}, "wait": "5m"}],
            }
        ]
    }
    h = Harness(sessions, clock, make_config(escalation=escalation))
    [alert_id] = await h.fire(finding())
    for _ in range(3):
        clock.advance(5 * MIN)
        await h.tick()
    steps = await h.steps(alert_id)
    assert [(s.level_name, s.reason) for s in steps] == [("only", "fired"), ("only", "timeout")]


async def test_resolved_alert_stops_escalation(sessions, clock) -> None:
    h = Harness(sessions, clock, make_config())
    f = finding()
    [alert_id] = await h.fire(f)
    await h.clear(f)
    clock.advance(60 * MIN)
    assert (await h.tick()).escalated == []
    assert len(await h.steps(alert_id)) == 1


async def test_snooze_holds_escalation_and_breaches_are_counted(sessions, clock) -> None:
    from prometheus_client import CollectorRegistry

    from fictra.auth.actor import cli_actor
    from fictra.response import actions
    from fictra.response.sla import SlaMetrics, breach_report

    h = Harness(sessions, clock, make_config())
    registry = CollectorRegistry()
    h.ctx.metrics = SlaMetrics.register(registry)
    [alert_id] = await h.fire(finding(team="treasury"))
    async with sessions.begin() as session:
        await actions.snooze(
            session, alert_id=alert_id, actor=cli_actor("t"), ctx=h.ctx, duration=timedelta(minutes=40)
        )
    clock.advance(15 * MIN)
    result = await h.tick()
    assert result.escalated == [] and result.ack_breaches == [alert_id]  # the SLA clock kept running
    clock.advance(25 * MIN)
    assert (await h.tick()).escalated == [alert_id]  # the snooze ended
    assert levels(await h.steps(alert_id))[-1][0] == "technical_lead"
    sample = {"severity": "P0", "team": "treasury", "kind": "acknowledge"}
    assert registry.get_sample_value("fictra_sla_breaches_total", sample) == 1.0
    async with sessions() as session:
        report = await breach_report(session, since=clock.now() - timedelta(hours=1))
        assert [(r.severity, r.team, r.kind, r.count) for r in report] == [
            ("P0", "treasury", "acknowledge", 1)
        ]
        assert await breach_report(session, until=clock.now() - timedelta(hours=1)) == []


async def test_escalate_now_after_acknowledgement_moves_up_once(sessions, clock) -> None:
    from fictra.auth.actor import cli_actor
    from fictra.errors import ConflictError
    from fictra.response import actions

    h = Harness(sessions, clock, make_config())
    [alert_id] = await h.fire(finding())
    async with sessions.begin() as session:
        await actions.acknowledge(session, alert_id=alert_id, actor=cli_actor("alice"), ctx=h.ctx)
    async with sessions.begin() as session:
        row = await actions.escalate_now(session, alert_id=alert_id, actor=cli_actor("alice"), ctx=h.ctx)
        assert row.next_escalation_at is None  # acknowledged: no chase after this step
    for _ in range(2):
        async with sessions.begin() as session:
            await actions.escalate_now(session, alert_id=alert_id, actor=cli_actor("alice"), ctx=h.ctx)
    async with sessions.begin() as session:
        with pytest.raises(ConflictError, match="no higher escalation level"):
            await actions.escalate_now(session, alert_id=alert_id, actor=cli_actor("alice"), ctx=h.ctx)
    assert [s.level_name for s in await h.steps(alert_id)] == [
        "first_level_support",
        "technical_lead",
        "system_architect",
        "executive_team",
    ]
    async with sessions.begin() as session:
        await actions.resolve(session, alert_id=alert_id, actor=cli_actor("alice"), ctx=h.ctx)
    async with sessions.begin() as session:
        with pytest.raises(ConflictError, match="is resolved; only a firing alert can be snoozed"):
            await actions.snooze(
                session, alert_id=alert_id, actor=cli_actor("a"), ctx=h.ctx, duration=timedelta(minutes=1)
            )


async def test_retracted_alert_stops_escalating(sessions, clock) -> None:
    from fictra.alerting.findings import BlockRef, Finding
    from fictra.chain.types import Reorg

    h = Harness(sessions, clock, make_config())
    anchored = Finding(
        monitor="test-tx",
        severity=Severity.P0,
        summary="suspicious transfer",
        labels={"tx": "0x1"},
        block=BlockRef(10, "0x" + "aa" * 32),
        confirmations=5,
    )
    async with sessions.begin() as session:
        changes = await h.alerts.ingest(
            session, MonitorOutput(findings=[anchored]), network="devnet", head=10
        )
    [alert_id] = [c.alert_id for c in changes]
    assert len(await h.steps(alert_id)) == 1  # provisional alerts are escalated too
    async with sessions.begin() as session:
        await h.alerts.on_reorg(Reorg("devnet", 9, 2, ("0x" + "aa" * 32, "0x" + "bb" * 32)), session)
    clock.advance(60 * MIN)
    assert (await h.tick()).escalated == []
    assert len(await h.steps(alert_id)) == 1
    async with sessions() as session:
        row = await session.get(AlertResponse, alert_id)
        assert row is not None and row.active is False


async def test_clocks_stop_as_soon_as_the_alert_store_records_the_acknowledgement(sessions, clock) -> None:
    from fictra.response.queries import response_of

    h = Harness(sessions, clock, make_config())
    [alert_id] = await h.fire(finding())
    clock.advance(5 * MIN)
    await _ack(sessions, alert_id, clock)  # e.g. the alerts API's acknowledge, not this package
    async with sessions.begin() as session:
        view = await response_of(session, h.ctx, alert_id=alert_id)
    assert view.clocks.acknowledge.state == "met" and view.clocks.acknowledge.remaining_seconds == 600.0
    assert view.clocks.resolve.state == "running" and view.next_escalation_at is None
    async with sessions() as session:
        row = await session.get(AlertResponse, alert_id)
        assert row is not None and row.acknowledged_at is None  # the read wrote nothing


async def test_a_severity_raised_by_the_store_tightens_the_deadlines(sessions, clock) -> None:
    h = Harness(sessions, clock, make_config())
    [alert_id] = await h.fire(finding("drift", Severity.P2))
    clock.advance(60)
    await h.fire(finding("drift", Severity.P0))  # same condition, now critical: no new event
    clock.advance(14 * MIN - 1)
    assert (await h.tick()).escalated == []
    clock.advance(1)
    result = await h.tick()  # P0's 15 minutes from when it fired, not P2's 4 hours
    assert result.escalated == [alert_id] and result.ack_breaches == [alert_id]
    assert [b.severity for b in await h.breaches()] == ["P0"]
