"""The access-attempts monitor on SQLite and PostgreSQL: brute force (P1) per user and per IP, cleared
when the window empties; a login from a new place (P3)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import Severity
from fictra.auth.policy import Source
from fictra.auth.service import record_attempt
from fictra.clock import FakeClock
from fictra.monitors.access import AccessAttemptsMonitor
from fictra.monitors.base import MonitorOutput, PolledMonitor


async def _attempt(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    username: str,
    ip: str,
    *,
    success: bool,
    reason: str | None = None,
) -> None:
    async with sessions.begin() as db:
        await record_attempt(
            db,
            username=username,
            method="password",
            success=success,
            reason=reason or ("ok" if success else "bad_password"),
            source=Source(ip, "curl/8"),
            clock=clock,
        )


async def _poll(sessions: async_sessionmaker[AsyncSession], monitor: AccessAttemptsMonitor) -> MonitorOutput:
    async with sessions.begin() as db:
        return await monitor.poll(db)


async def test_brute_force_by_user_and_by_ip(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    monitor = AccessAttemptsMonitor(clock=clock, user_failures=5, ip_failures=8, window=timedelta(minutes=15))
    assert isinstance(monitor, PolledMonitor)
    for i in range(4):
        await _attempt(sessions, clock, "alice", f"203.0.113.{i}", success=False)
        clock.advance(30)
    assert (await _poll(sessions, monitor)).findings == []  # 4 < 5
    await _attempt(sessions, clock, "alice", "203.0.113.9", success=False)
    for name in ("bob", "carol", "dave"):  # spraying from one IP
        await _attempt(sessions, clock, name, "198.51.100.5", success=False, reason="unknown_user")
    out = await _poll(sessions, monitor)
    [user] = out.findings
    assert user.severity == Severity.P1 and user.monitor == "access-attempts"
    assert user.labels == {"condition": "brute_force", "by": "user", "subject": "alice"}
    assert user.summary == "Brute force: 5 failed access attempts for user 'alice' within 15 min"
    assert user.evidence["failures"] == 5 and user.evidence["reasons"] == {"bad_password": 5}
    assert user.evidence["source_ips"] == [f"203.0.113.{i}" for i in (0, 1, 2, 3, 9)]
    for name in ("erin", "frank", "grace", "heidi", "ivan"):
        await _attempt(sessions, clock, name, "198.51.100.5", success=False, reason="unknown_user")
    out = await _poll(sessions, monitor)  # alice's condition still holds: reported once, when it started
    [ip] = out.findings
    assert ip.labels == {"condition": "brute_force", "by": "ip", "subject": "198.51.100.5"}
    assert ip.evidence["failures"] == 8 and len(ip.evidence["usernames"]) == 8
    assert ip.evidence["reasons"] == {"unknown_user": 8}
    clock.advance(16 * 60)  # the window empties: both conditions clear
    out = await _poll(sessions, monitor)
    assert out.findings == []
    assert sorted(c.labels["subject"] for c in out.clears) == ["198.51.100.5", "alice"]
    assert (await _poll(sessions, monitor)).clears == []  # cleared once


async def test_login_from_a_new_place(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    monitor = AccessAttemptsMonitor(clock=clock, network="devnet")
    await _attempt(sessions, clock, "alice", "10.0.0.1", success=True)  # her first login ever: not news
    assert (await _poll(sessions, monitor)).findings == []
    clock.advance(60)
    await _attempt(sessions, clock, "alice", "10.0.0.1", success=True)  # a known place
    await _attempt(sessions, clock, "alice", "192.0.2.44", success=False)  # a failure is no login
    assert (await _poll(sessions, monitor)).findings == []
    clock.advance(60)
    await _attempt(sessions, clock, "alice", "192.0.2.44", success=True)
    [finding] = (await _poll(sessions, monitor)).findings
    assert finding.severity == Severity.P3
    assert finding.labels == {"condition": "new_place", "user": "alice", "source_ip": "192.0.2.44"}
    assert finding.summary == "Login by 'alice' from a new place: 192.0.2.44"
    assert finding.evidence["known_ips"] == ["10.0.0.1"] and finding.evidence["user_agent"] == "curl/8"
    assert (await _poll(sessions, monitor)).findings == []  # judged once
    await _attempt(sessions, clock, "alice", "192.0.2.44", success=True)  # now a known place
    assert (await _poll(sessions, monitor)).findings == []


async def test_new_monitor_judges_recent_logins_only(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _attempt(sessions, clock, "alice", "10.0.0.1", success=True)
    await _attempt(sessions, clock, "alice", "10.0.0.2", success=True)  # new place, but long ago
    clock.advance(3600)
    await _attempt(sessions, clock, "alice", "10.0.0.3", success=True)  # new place, recent
    out = await _poll(sessions, AccessAttemptsMonitor(clock=clock))
    assert [f.labels["source_ip"] for f in out.findings] == ["10.0.0.3"]


async def test_conditions_left_firing_before_a_restart_clear(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    from fictra.alerting.service import apply_findings

    before = AccessAttemptsMonitor(clock=clock, user_failures=2)
    for _ in range(2):
        await _attempt(sessions, clock, "alice", "203.0.113.1", success=False)
    out = await _poll(sessions, before)
    async with sessions.begin() as db:
        await apply_findings(db, out.findings, [], head=None, clock=clock)
    clock.advance(16 * 60)
    after = AccessAttemptsMonitor(clock=clock, user_failures=2)  # a restart: a fresh instance
    out = await _poll(sessions, after)
    assert [c.labels for c in out.clears] == [{"condition": "brute_force", "by": "user", "subject": "alice"}]
    assert out.findings == []


async def test_findings_become_alerts_through_the_pipeline(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """As the platform's poll loop runs it: poll and ingest in one transaction; the alert resolves later."""
    from sqlalchemy import select

    from fictra.alerting.models import Alert
    from fictra.monitors.pipeline import AlertPipeline

    pipeline = AlertPipeline(monitors=[], clock=clock)
    monitor = AccessAttemptsMonitor(clock=clock, network="devnet", user_failures=3)

    async def tick() -> None:
        async with sessions.begin() as db:
            await pipeline.ingest(db, await monitor.poll(db), network="devnet", head=None)

    for _ in range(3):
        await _attempt(sessions, clock, "alice", "203.0.113.1", success=False)
    await tick()
    await tick()  # still holding: still one alert
    async with sessions() as db:
        [alert] = (await db.execute(select(Alert))).scalars().all()
    assert (alert.severity, alert.status, alert.monitor) == ("P1", "firing", "access-attempts")
    assert alert.evidence["failures"] == 3 and alert.labels["subject"] == "alice"
    clock.advance(16 * 60)
    await tick()
    async with sessions() as db:
        [alert] = (await db.execute(select(Alert))).scalars().all()
    assert alert.status == "resolved"
