"""Procedure runs on a simulated day with a fake clock, against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.models import Alert
from fictra.audit.canonical import dumps
from fictra.audit.models import AuditEntry
from fictra.clock import FakeClock
from fictra.errors import PermissionDeniedError
from fictra.procedures import service
from fictra.procedures.jobs import ProceduresContext, check_graces, due_times, procedure_jobs, run_due
from fictra.procedures.models import Outcome, ProcedureRun, StepResult

from .helpers import AlertIngest, StaticChain, StaticRolesChain, follower, fresh_backups, person, shipped

TUESDAY = datetime(2025, 1, 7, tzinfo=UTC)  # no weekly (Monday) or monthly (1st) run due
DAILY = (
    "daily-health",
    "security-log-review",
    "transaction-volume",
    "support-tickets",
    "operations-meeting",
    "daily-backup",
)
SIGNERS = {
    "technical_lead": person("tess", "technical_lead"),
    "security_officer": person("sam", "security_officer"),
    "operations_manager": person("olga", "operations_manager"),
    "first_level_support": person("fred", "first_level_support"),
}


def _context(clock: FakeClock, ingest: AlertIngest, chain: StaticChain | None = None) -> ProceduresContext:
    return ProceduresContext(
        config=shipped(),
        clock=clock,
        chain=chain or StaticRolesChain(clock),
        follower_status=follower,
        ingest=ingest,
        backups=fresh_backups(clock),
    )


async def _alerts(sessions: async_sessionmaker[AsyncSession]) -> list[Alert]:
    async with sessions() as session:
        return list((await session.execute(select(Alert).order_by(Alert.id))).scalars())


async def test_a_simulated_day_runs_every_daily_procedure(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(TUESDAY)
    ingest = AlertIngest(clock)
    ctx = _context(clock, ingest)
    assert {j.name for j in procedure_jobs(ctx)} >= {f"procedures.{n}" for n in DAILY} | {"procedures.graces"}
    end = TUESDAY + timedelta(days=1) - timedelta(seconds=1)
    due = sorted(
        ((d, p) for p in ctx.config.procedures for d in due_times(p, start=TUESDAY, end=end)),
        key=lambda item: (item[0], item[1].name),
    )
    assert sorted(p.name for _, p in due) == sorted(DAILY)  # once each
    runs: dict[str, int] = {}
    for due_at, proc in due:
        clock.advance((due_at - clock.now()).total_seconds())
        runs[proc.name] = await run_due(sessions=sessions, ctx=ctx, procedure=proc, due_at=due_at)
        clock.advance(600)
        for step in proc.steps:
            if step.kind != "manual":
                continue
            signer = next(SIGNERS[r] for r in step.signoff_roles if r in SIGNERS)
            async with sessions.begin() as session:
                await service.sign_off(
                    session, run_id=runs[proc.name], step_name=step.name, procedure=proc, actor=signer,
                    note="done", clock=clock,
                )  # fmt: skip
    clock.advance((TUESDAY + timedelta(days=1, hours=12) - clock.now()).total_seconds())
    assert await check_graces(sessions=sessions, ctx=ctx) == []
    async with sessions() as session:
        outcomes = {r.procedure: r.outcome for r in (await session.execute(select(ProcedureRun))).scalars()}
        steps = await service.steps_of(session, run_id=runs["daily-health"])
    assert set(DAILY) <= set(outcomes)
    assert all(outcomes[n] == Outcome.COMPLETED.value for n in DAILY), outcomes
    assert [s.result for s in steps][:6] == [StepResult.PASSED.value] * 6
    assert steps[-1].signed_by == "tess" and steps[-1].note == "done"
    assert ingest.findings == [] and await _alerts(sessions) == []


async def test_evidence_hash_is_in_the_audit_log(sessions: async_sessionmaker[AsyncSession]) -> None:
    clock = FakeClock(TUESDAY + timedelta(hours=8))
    ctx = _context(clock, AlertIngest(clock))
    proc = ctx.config.get("daily-health")
    assert proc is not None
    run_id = await run_due(sessions=sessions, ctx=ctx, procedure=proc, due_at=clock.now())
    again = await run_due(sessions=sessions, ctx=ctx, procedure=proc, due_at=clock.now())
    assert again == run_id  # idempotent per (procedure, due_at)
    async with sessions() as session:
        steps = await service.steps_of(session, run_id=run_id)
        entries = list(
            (
                await session.execute(select(AuditEntry).where(AuditEntry.action == "procedure.step.result"))
            ).scalars()
        )
    oracle = next(s for s in steps if s.name == "oracles")
    assert oracle.evidence is not None and oracle.evidence["data"]["stale"] == []
    assert oracle.evidence_sha256 == hashlib.sha256(dumps(oracle.evidence).encode()).hexdigest()
    audited = {e.after["step"]: e.after["evidence_sha256"] for e in entries if e.after}
    assert len(entries) == 6  # once per automated step: the second run_due found nothing pending
    assert audited["oracles"] == oracle.evidence_sha256


async def test_signoff_by_a_role_that_may_not_sign_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(TUESDAY + timedelta(hours=9))
    ctx = _context(clock, AlertIngest(clock))
    proc = ctx.config.get("operations-meeting")
    assert proc is not None
    run_id = await run_due(sessions=sessions, ctx=ctx, procedure=proc, due_at=clock.now())
    with pytest.raises(PermissionDeniedError, match="needs one of the roles: operations_manager"):
        async with sessions.begin() as session:
            await service.sign_off(
                session, run_id=run_id, step_name="meeting", procedure=proc,
                actor=person("val", "viewer", "technical_lead"), note=None, clock=clock,
            )  # fmt: skip
    async with sessions() as session:
        meeting = next(s for s in await service.steps_of(session, run_id=run_id) if s.name == "meeting")
        run = await service.get_run(session, run_id=run_id)
    assert meeting.result == StepResult.PENDING.value and meeting.signed_by is None
    assert run.outcome == Outcome.OPEN.value


async def test_unsigned_procedures_become_missed_with_their_alert(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(TUESDAY + timedelta(hours=8))
    ingest = AlertIngest(clock)
    ctx = _context(clock, ingest)
    health, tickets = ctx.config.get("daily-health"), ctx.config.get("support-tickets")
    assert health is not None and tickets is not None
    await run_due(sessions=sessions, ctx=ctx, procedure=health, due_at=clock.now())
    clock.advance(2 * 3600)
    await run_due(sessions=sessions, ctx=ctx, procedure=tickets, due_at=clock.now())
    clock.advance(4 * 3600 - 2 * 3600 - 1)  # 11:59:59: daily health's grace (4 h) not over yet
    assert await check_graces(sessions=sessions, ctx=ctx) == []
    clock.advance(1)
    missed = await check_graces(sessions=sessions, ctx=ctx)
    assert len(missed) == 1
    alerts = await _alerts(sessions)
    assert [(a.monitor, a.severity, a.status) for a in alerts] == [("procedure:daily-health", "P1", "firing")]
    assert alerts[0].labels == {"procedure": "daily-health", "condition": "missed"}
    clock.advance(8 * 3600)  # support tickets: 8 h grace, default severity P2
    assert len(await check_graces(sessions=sessions, ctx=ctx)) == 1
    alerts = await _alerts(sessions)
    assert [(a.monitor, a.severity) for a in alerts][1:] == [("procedure:support-tickets", "P2")]
    async with sessions() as session:
        outcomes = [r.outcome for r in (await session.execute(select(ProcedureRun))).scalars()]
    assert outcomes == [Outcome.MISSED.value, Outcome.MISSED.value]


async def test_daily_health_fails_with_its_alert_when_an_oracle_feed_is_stale(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(TUESDAY + timedelta(hours=8))
    ingest = AlertIngest(clock)
    ctx = _context(clock, ingest, StaticChain(clock, feed_age=3600 + 301))
    proc = ctx.config.get("daily-health")
    assert proc is not None
    run_id = await run_due(sessions=sessions, ctx=ctx, procedure=proc, due_at=clock.now())
    async with sessions() as session:
        run = await service.get_run(session, run_id=run_id)
        results = {s.name: s.result for s in await service.steps_of(session, run_id=run_id)}
    assert run.outcome == Outcome.FAILED.value
    assert results["oracles"] == StepResult.FAILED.value
    assert results["endpoints"] == results["contracts"] == StepResult.PASSED.value
    alerts = await _alerts(sessions)
    assert [(a.monitor, a.severity, a.labels["step"]) for a in alerts] == [
        ("procedure:daily-health", "P1", "oracles")
    ]
    assert "Feed:BRENT" in alerts[0].summary and "Feed:GOLD" in alerts[0].summary


async def test_unexpected_pause_and_unacknowledged_p1_fail_daily_health(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(TUESDAY + timedelta(hours=8))
    ingest = AlertIngest(clock)
    chain = StaticChain(clock, paused_={"PaymentToken": True, "Reserve": False})
    ctx = _context(clock, ingest, chain)
    proc = ctx.config.get("daily-health")
    assert proc is not None
    first = await run_due(sessions=sessions, ctx=ctx, procedure=proc, due_at=clock.now())
    async with sessions() as session:
        results = {s.name: s.result for s in await service.steps_of(session, run_id=first)}
    assert results["contracts"] == StepResult.FAILED.value
    # the failed step's P1 alert is now firing unacknowledged: the next day's check reports it
    chain.paused_ = {"PaymentToken": False, "Reserve": False}
    clock.advance(86400)
    second = await run_due(sessions=sessions, ctx=ctx, procedure=proc, due_at=clock.now())
    async with sessions() as session:
        steps = {s.name: s for s in await service.steps_of(session, run_id=second)}
    assert steps["contracts"].result == StepResult.PASSED.value
    assert steps["alerts"].result == StepResult.FAILED.value
    assert steps["alerts"].evidence is not None
    assert len(steps["alerts"].evidence["data"]["unacknowledged"]) == 1
