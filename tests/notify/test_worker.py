"""The outbox worker against a real local webhook receiver, driven by a FakeClock (no sleeps)."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import FakeClock
from fictra.notify.backoff import backoff_seconds
from fictra.notify.models import DeliveryAttempt, Notification, NotificationStatus
from fictra.notify.service import list_attempts, list_notifications, retry
from fictra.notify.worker import Outbox

from .helpers import config, outbox, put

SECRET = "s3cret-hmac-key"


async def _rows(sessions: async_sessionmaker[AsyncSession]) -> list[Notification]:
    async with sessions() as s:
        return list(await s.scalars(select(Notification).order_by(Notification.id)))


async def _advance_to_next(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> float:
    """Move the clock exactly to the earliest pending row's next attempt; return the step."""
    pending = [r for r in await _rows(sessions) if r.status == NotificationStatus.PENDING]
    step = (min(r.next_attempt_at for r in pending) - clock.now()).total_seconds()
    clock.advance(step)
    return step


async def test_failing_receiver_gets_it_after_retries_once_per_key_signed(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path, receiver_factory
) -> None:
    rcv = await receiver_factory(fail_first=3, secret=SECRET, now=lambda: clock.now().timestamp())
    cfg = config({"type": "webhook", "name": "hook", "url": rcv.url + "/hook", "secret": SECRET})
    [nid] = await put(sessions, clock, "alert-42-fired")
    box = outbox(sessions, cfg, clock, base_dir)
    expected = random.Random(7)
    try:
        steps = []
        assert await box.run_once() == 1
        for attempt in (1, 2, 3):
            [row] = await _rows(sessions)
            assert row.status == NotificationStatus.PENDING and row.attempts == attempt
            assert "HTTP 500" in (row.last_error or "")
            assert await box.run_once() == 0  # not due yet: nothing happens before the backoff ends
            steps.append(await _advance_to_next(sessions, clock))
            assert await box.run_once() == 1
        [row] = await _rows(sessions)
        assert row.status == NotificationStatus.DELIVERED and row.attempts == 4
        assert row.delivered_at == clock.now() and row.lease_until is None
        want = [backoff_seconds(n, cfg.delivery, expected) for n in (1, 2, 3)]
        assert steps == want
        assert 8 <= steps[0] <= 12 and 16 <= steps[1] <= 24 and 32 <= steps[2] <= 48  # 10s doubling +-20%
        assert rcv.delivered == {"alert-42-fired": 1}
        assert len(rcv.requests) == 4
        body = rcv.requests[-1].json
        assert body["idempotency_key"] == "alert-42-fired" and body["severity"] == "P0"
        assert body["link"] == "http://console.test/alerts/42"
        assert body["evidence"] == {"observed": "0.91", "floor": "0.95"}
        assert await box.run_once() == 0  # delivered rows are never sent again
        async with sessions() as s:
            attempts = await list_attempts(s, notification_id=nid)
        assert [a.outcome for a in attempts] == ["failed", "failed", "failed", "delivered"]
    finally:
        await box.aclose()


async def test_bad_signature_is_refused_permanently(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path, receiver_factory
) -> None:
    rcv = await receiver_factory(secret=SECRET, now=lambda: clock.now().timestamp())
    cfg = config({"type": "webhook", "name": "hook", "url": rcv.url, "secret": "the-wrong-key"})
    await put(sessions, clock, "k")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
    finally:
        await box.aclose()
    [row] = await _rows(sessions)
    assert row.status == NotificationStatus.DEAD and row.attempts == 1
    assert "HTTP 401" in (row.last_error or "") and "the-wrong-key" not in (row.last_error or "")
    assert rcv.delivered == {}


async def test_dead_letter_after_max_attempts_then_manual_retry(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path, receiver_factory
) -> None:
    rcv = await receiver_factory(fail_first=3)
    cfg = config({"type": "webhook", "name": "hook", "url": rcv.url}, max_attempts=3)
    [nid] = await put(sessions, clock, "k")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
        await _advance_to_next(sessions, clock)
        await box.run_once()
        await _advance_to_next(sessions, clock)
        await box.run_once()
        [row] = await _rows(sessions)
        assert row.status == NotificationStatus.DEAD and row.attempts == 3
        clock.advance(3600)
        assert await box.run_once() == 0  # dead rows stay dead
        async with sessions() as s:
            dead = await list_notifications(s, status="dead")
        assert [d.id for d in dead] == [nid]
        async with sessions.begin() as s:
            await retry(s, notification_id=nid, actor="ops-user", clock=clock, reason="receiver fixed")
        assert await box.run_once() == 1
        [row] = await _rows(sessions)
        assert row.status == NotificationStatus.DELIVERED and row.attempts == 1
        assert rcv.delivered == {"k": 1}
    finally:
        await box.aclose()


async def test_unknown_receiver_or_channel_goes_dead_with_a_clear_error(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path
) -> None:
    cfg = config({"type": "log"})
    await put(sessions, clock, "a", receiver="nobody", channel="log")
    await put(sessions, clock, "b", receiver="ops", channel="nochannel")
    await put(sessions, clock, "c", receiver="ops", channel="log")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        assert await box.run_once() == 3
    finally:
        await box.aclose()
    a, b, c = await _rows(sessions)
    assert a.status == b.status == NotificationStatus.DEAD
    assert "receiver 'nobody' channel 'log' is not in receivers.yaml" in (a.last_error or "")
    assert "channel 'nochannel'" in (b.last_error or "")
    assert c.status == NotificationStatus.DELIVERED


async def test_expired_lease_is_reclaimed_and_a_stale_outcome_does_not_clobber(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path
) -> None:
    cfg = config({"type": "log"}, lease="2m")
    await put(sessions, clock, "k", channel="log")
    box = outbox(sessions, cfg, clock, base_dir)
    other = outbox(sessions, cfg, clock, base_dir)
    try:
        [claimed] = await box.claim()  # a worker claims, then "dies" without recording anything
        assert claimed.status == NotificationStatus.SENDING
        assert await other.claim() == []  # the lease holds
        clock.advance(119)
        assert await other.claim() == []
        clock.advance(1)
        assert await other.run_once() == 1  # lease over: re-claimed and delivered
        [row] = await _rows(sessions)
        assert row.status == NotificationStatus.DELIVERED and row.attempts == 2
    finally:
        await box.aclose()
        await other.aclose()


async def test_rate_limit_paces_a_channel_without_spending_attempts(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path, receiver_factory
) -> None:
    rcv = await receiver_factory()
    cfg = config(
        {"type": "webhook", "name": "hook", "url": rcv.url, "rate_limit": {"per_second": 0.5, "burst": 2}}
    )
    await put(sessions, clock, *(f"k{i}" for i in range(5)))
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        await box.run_once()
        assert len(rcv.delivered) == 2  # the burst
        rows = await _rows(sessions)
        throttled = [r for r in rows if r.status == NotificationStatus.PENDING]
        assert len(throttled) == 3 and all(r.attempts == 0 for r in throttled)
        assert all(r.next_attempt_at == clock.now() + timedelta(seconds=2) for r in throttled)
        clock.advance(2)
        await box.run_once()
        assert len(rcv.delivered) == 3  # one token per 2 s
        clock.advance(4)
        await box.run_once()
        assert len(rcv.delivered) == 5
        assert set(rcv.delivered.values()) == {1}
        async with sessions() as s:
            n = len(list(await s.scalars(select(DeliveryAttempt))))
        assert n == 5  # throttling is not an attempt
    finally:
        await box.aclose()


async def test_backoff_grows_caps_and_jitters_within_bounds() -> None:
    cfg = config({"type": "log"}, initial_backoff="10s", max_backoff="60s", jitter=0.0)
    rng = random.Random(1)
    assert [backoff_seconds(n, cfg.delivery, rng) for n in range(1, 6)] == [10, 20, 40, 60, 60]
    jittered = config({"type": "log"}, initial_backoff="10s", max_backoff="1h", jitter=0.5)
    values = [backoff_seconds(1, jittered.delivery, rng) for _ in range(200)]
    assert min(values) >= 5 and max(values) <= 15 and len(set(values)) > 100


async def test_run_stops_when_told(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path
) -> None:
    import asyncio

    cfg = config({"type": "log"})
    await put(sessions, clock, "k", channel="log")
    box: Outbox = outbox(sessions, cfg, clock, base_dir)
    stop = asyncio.Event()
    task = asyncio.create_task(box.run(stop))
    for _ in range(200):
        if box.counts["delivered"]:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 5)
    [row] = await _rows(sessions)
    assert row.status == NotificationStatus.DELIVERED


async def test_outcome_for_a_row_changed_meanwhile_is_ignored(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path
) -> None:
    cfg = config({"type": "log"})
    await put(sessions, clock, "k", channel="log")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        [row] = await box.claim()
        async with sessions.begin() as s:  # someone else re-claimed it (attempts moved on)
            await s.execute(update(Notification).values(attempts=5))
        outcome = await box._deliver(row)
        await box._record([outcome])
        [row] = await _rows(sessions)
        assert row.status == NotificationStatus.SENDING and row.attempts == 5
    finally:
        await box.aclose()


async def test_concurrent_workers_never_claim_the_same_row(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path
) -> None:
    import asyncio

    cfg = config({"type": "log"}, batch=7)
    await put(sessions, clock, *(f"k{i}" for i in range(30)), channel="log")
    boxes = [outbox(sessions, cfg, clock, base_dir, seed=i) for i in range(4)]
    try:
        claimed = await asyncio.gather(*(b.claim() for b in boxes))
    finally:
        for b in boxes:
            await b.aclose()
    ids = [row.id for rows in claimed for row in rows]
    assert len(ids) == len(set(ids)) == 28  # 4 x 7, each row once
    assert {row.claim for rows in claimed for row in rows} == {rows[0].claim for rows in claimed}


class _Stuck:
    """A sender stuck in a library call that ignores its own timeouts."""

    async def send(self, envelope: object) -> None:
        import asyncio

        await asyncio.Event().wait()


async def test_a_stuck_send_is_cut_off_and_retried(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, base_dir: Path
) -> None:
    cfg = config({"type": "log"})
    await put(sessions, clock, "k", channel="log")
    box = outbox(sessions, cfg, clock, base_dir)
    try:
        box._sender("ops", "log")
        box._senders[("ops", "log")] = _Stuck()  # type: ignore[assignment]
        box._limits[("ops", "log")] = 0.05
        assert await box.run_once() == 1
    finally:
        await box.aclose()
    [row] = await _rows(sessions)
    assert row.status == NotificationStatus.PENDING and row.attempts == 1
    assert row.last_error == "sending took longer than 0.05s; gave up this attempt"
