"""kill -9 a worker while it is delivering; a restarted worker delivers everything, nothing is lost,
and the receiver (deduplicating on the idempotency key) handles each notification once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from fictra.clock import FakeClock
from fictra.db.engine import make_engine, session_factory
from fictra.notify.config import load_receivers
from fictra.notify.models import Notification, NotificationStatus

from .helpers import outbox, put

HERE = Path(__file__).parent


async def _wait_for(condition, what: str, proc: asyncio.subprocess.Process, seconds: float = 30.0) -> None:
    """Wait for the worker process to reach a point (an external event, not a retry timer)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if proc.returncode is not None:
            raise AssertionError(f"worker exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_kill_9_during_delivery_then_restart_delivers_everything(
    database_url: str, tmp_path: Path, receiver_factory
) -> None:
    hold = asyncio.Event()
    rcv = await receiver_factory(hold=hold)
    receivers = tmp_path / "receivers.yaml"
    receivers.write_text(
        "receivers:\n"
        "  - name: ops\n"
        f"    channels: [{{type: webhook, name: hook, url: '{rcv.url}/hook', timeout: 10s}}]\n"
        "delivery: {batch: 2, lease: 30s, poll_interval: 50ms}\n"
    )
    engine = make_engine(database_url)
    sessions = session_factory(engine)
    real_now = FakeClock(datetime.now(UTC))
    keys = [f"alert-{i}-fired" for i in range(5)]
    await put(sessions, real_now, *keys)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(HERE / "worker_proc.py"), database_url, str(receivers), env=env,
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await _wait_for(lambda: len(rcv.requests) >= 2, "two deliveries in flight", proc)
        os.kill(proc.pid, signal.SIGKILL)
        assert await asyncio.wait_for(proc.wait(), 10) == -signal.SIGKILL
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    hold.set()  # the receiver answers from now on (the killed worker never hears it)
    async with sessions() as s:
        rows = list(await s.scalars(select(Notification).order_by(Notification.id)))
    states = sorted(r.status for r in rows)
    assert states == ["pending"] * 3 + ["sending"] * 2  # two claimed when it died, three never touched
    assert not any(r.status == NotificationStatus.DELIVERED for r in rows)

    # restart: a new worker, once the dead worker's lease has passed
    clock = FakeClock(datetime.now(UTC) + timedelta(seconds=31))
    box = outbox(sessions, load_receivers(receivers), clock, tmp_path)
    try:
        for _ in range(5):
            if await box.run_once() == 0:
                break
    finally:
        await box.aclose()
        async with sessions() as s:
            rows = list(await s.scalars(select(Notification).order_by(Notification.id)))
        await engine.dispose()
    assert all(r.status == NotificationStatus.DELIVERED for r in rows), [(r.id, r.status) for r in rows]
    assert set(rcv.delivered) == set(keys)  # nothing lost
    sent = [r.headers["X-Fictra-Idempotency-Key"] for r in rcv.requests]
    assert sorted(set(sent)) == sorted(keys)
    assert len(sent) <= len(keys) + 2  # at most the two in-flight ones twice (at-least-once)
    assert [r.attempts for r in rows if r.attempts == 2] and all(r.attempts in (1, 2) for r in rows)
