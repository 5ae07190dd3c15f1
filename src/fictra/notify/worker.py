"""The delivery worker: claims due notifications, sends them, records the outcome.

At least once: a row is claimed (pending -> sending, with a lease) in one transaction and its outcome
written in another after sending. A worker killed between the two leaves the row "sending"; once the
lease passes any worker claims it again and sends again (receivers dedup on the idempotency key).
Failed attempts are retried with exponential backoff and jitter until ``max_attempts``, then the row
is dead (listed by the API, retried by hand). Per-channel token buckets pace sends; a row that finds
its bucket empty goes back to pending without spending an attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import Clock
from fictra.notify.backoff import TokenBucket, backoff_seconds
from fictra.notify.channels import DeliveryError, Sender, build_sender
from fictra.notify.config import ReceiversConfig, send_limit
from fictra.notify.message import Message
from fictra.notify.metrics import OutboxMetrics
from fictra.notify.models import DeliveryAttempt, Notification, NotificationStatus
from fictra.notify.templates import Envelope

log = logging.getLogger("fictra.notify")
_PENDING = NotificationStatus.PENDING.value
_SENDING = NotificationStatus.SENDING.value


@dataclass(slots=True)
class _Outcome:
    row_id: int
    attempt: int
    receiver: str
    channel: str
    outcome: str  # delivered | failed | dead | throttled
    error: str | None = None
    wait: float = 0.0
    duration_ms: int = 0


class Outbox:
    """``await Outbox(...).run(stop)`` as a platform task; tests drive :meth:`run_once` with a FakeClock."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        config: ReceiversConfig,
        clock: Clock,
        base_dir: Path,
        rng: random.Random | None = None,
        http: httpx.AsyncClient | None = None,
        concurrency: int = 10,
        metrics: OutboxMetrics | None = None,
    ) -> None:
        self.sessions = sessions
        self.config = config
        self.policy = config.delivery
        self.clock = clock
        self.base_dir = base_dir
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._own_http = http is None
        self.http = http or httpx.AsyncClient()
        self.concurrency = asyncio.Semaphore(concurrency)
        # every claimed row is sent at once, so none waits for a free slot while its lease runs down
        self.claim_size = min(self.policy.batch, concurrency)
        self._senders: dict[tuple[str, str], Sender] = {}
        self._limits: dict[tuple[str, str], float] = {}  # seconds a send may take in all
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._wake = asyncio.Event()
        self.metrics = metrics
        self.counts: dict[str, int] = {"delivered": 0, "failed": 0, "dead": 0, "throttled": 0}

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    def wake(self) -> None:
        """Look for due rows now (e.g. right after an in-process enqueue committed)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    busy = await self.run_once() >= self.claim_size
                except Exception:  # a database hiccup must not end the worker; log and retry
                    log.exception("notification outbox pass failed; retrying")
                    busy = False
                if not busy:
                    await self._idle(stop)
        finally:
            await self.aclose()

    async def _idle(self, stop: asyncio.Event) -> None:
        waiters = [
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(self.clock.sleep(self.policy.poll_interval.total_seconds())),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await w
            self._wake.clear()

    async def run_once(self) -> int:
        """Claim due rows, send them, record outcomes; returns how many rows were claimed."""
        rows = await self.claim()
        if not rows:
            return 0
        outcomes = await asyncio.gather(*(self._deliver(row) for row in rows))
        await self._record(outcomes)
        return len(rows)

    async def claim(self) -> list[Notification]:
        """Mark up to ``claim_size`` due rows as ours (one UPDATE ... RETURNING, so concurrent workers split
        the due rows between them: SQLite runs the statement under its write lock, PostgreSQL skips rows
        another worker's subquery has locked)."""
        now = self.clock.now()
        due = or_(
            and_(Notification.status == _PENDING, Notification.next_attempt_at <= now),
            and_(Notification.status == _SENDING, Notification.lease_until <= now),
        )
        async with self.sessions() as session:  # idle polls stay read-only
            if await session.scalar(select(Notification.id).where(due).limit(1)) is None:
                return []
        wanted = (
            select(Notification.id)
            .where(due)
            .order_by(Notification.next_attempt_at)
            .limit(self.claim_size)
            .with_for_update(skip_locked=True)
            .cte("wanted")  # a CTE, so PostgreSQL locks and limits once (a subquery may be re-run per row)
        )
        async with self.sessions.begin() as session:
            rows = await session.scalars(
                update(Notification)
                .where(Notification.id.in_(select(wanted.c.id)), due)
                .values(
                    status=_SENDING,
                    claim=uuid.uuid4().hex,
                    lease_until=now + self.policy.lease,
                    attempts=Notification.attempts + 1,
                )
                .returning(Notification)
                .execution_options(synchronize_session=False)
            )
            return sorted(rows, key=lambda r: (r.next_attempt_at, r.id))

    def _sender(self, receiver: str, channel: str) -> Sender:
        key = (receiver, channel)
        if key not in self._senders:
            rcv = self.config.receiver(receiver)
            ch = rcv.channel(channel) if rcv else None
            if rcv is None or ch is None:
                raise DeliveryError(
                    f"receiver '{receiver}' channel '{channel}' is not in receivers.yaml; add it, then retry",
                    permanent=True,
                )
            self._senders[key] = build_sender(
                receiver=receiver, channel=ch, base_dir=self.base_dir, http=self.http, clock=self.clock
            )
            # a channel's own timeouts apply per step (connect, send...); this bounds the whole send so a
            # stuck library cannot hold a claim past its lease
            self._limits[key] = send_limit(ch)
            if ch.rate_limit is not None:
                self._buckets[key] = TokenBucket(ch.rate_limit, clock=self.clock)
        return self._senders[key]

    async def _deliver(self, row: Notification) -> _Outcome:
        async with self.concurrency:
            started = self.clock.monotonic()
            try:
                sender = self._sender(row.receiver, row.channel)
                bucket = self._buckets.get((row.receiver, row.channel))
                wait = bucket.take() if bucket else 0.0
                if wait > 0:
                    return _Outcome(row.id, row.attempts, row.receiver, row.channel, "throttled", wait=wait)
                envelope = Envelope(
                    notification_id=row.id,
                    idempotency_key=row.idempotency_key,
                    receiver=row.receiver,
                    channel=row.channel,
                    message=Message.model_validate(row.message),
                    attempt=row.attempts,
                    console_url=self.config.console_url,
                )
                limit = self._limits[(row.receiver, row.channel)]
                try:
                    async with asyncio.timeout(limit):
                        await sender.send(envelope)
                except TimeoutError:
                    raise DeliveryError(
                        f"sending took longer than {limit:g}s; gave up this attempt"
                    ) from None
            except DeliveryError as exc:
                dead = exc.permanent or row.attempts >= self.policy.max_attempts
                return _Outcome(
                    row.id, row.attempts, row.receiver, row.channel, "dead" if dead else "failed", exc.message
                )
            except Exception as exc:  # a sender bug: retry like any failure, keep the traceback in the log
                log.exception("notification %s: sender raised", row.id)
                dead = row.attempts >= self.policy.max_attempts
                return _Outcome(
                    row.id,
                    row.attempts,
                    row.receiver,
                    row.channel,
                    "dead" if dead else "failed",
                    type(exc).__name__,
                )
            elapsed = int((self.clock.monotonic() - started) * 1000)
            return _Outcome(row.id, row.attempts, row.receiver, row.channel, "delivered", duration_ms=elapsed)

    async def _record(self, outcomes: list[_Outcome]) -> None:
        now = self.clock.now()
        attempts = []
        async with self.sessions.begin() as session:
            for o in outcomes:
                values: dict[str, object] = {"claim": None, "lease_until": None}
                if o.outcome == "delivered":
                    values |= {
                        "status": NotificationStatus.DELIVERED.value,
                        "delivered_at": now,
                        "last_error": None,
                    }
                elif o.outcome == "throttled":
                    values |= {
                        "status": _PENDING,
                        "attempts": Notification.attempts - 1,
                        "next_attempt_at": now + timedelta(seconds=o.wait),
                    }
                elif o.outcome == "dead":
                    values |= {"status": NotificationStatus.DEAD.value, "last_error": o.error}
                else:
                    delay = backoff_seconds(o.attempt, self.policy, self.rng)
                    values |= {
                        "status": _PENDING,
                        "last_error": o.error,
                        "next_attempt_at": now + timedelta(seconds=delay),
                    }
                self.counts[o.outcome] += 1
                if self.metrics is not None:
                    self.metrics.attempts.labels(o.receiver, o.channel, o.outcome).inc()
                    if o.outcome == "delivered":
                        self.metrics.send_seconds.labels(o.channel).observe(o.duration_ms / 1000)
                # only the row as this claim left it (a row re-claimed after its lease is the new claim's)
                await session.execute(
                    update(Notification)
                    .where(
                        Notification.id == o.row_id,
                        Notification.status == _SENDING,
                        Notification.attempts == o.attempt,
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
                if o.outcome != "throttled":
                    attempts.append(
                        {
                            "notification_id": o.row_id,
                            "attempt": o.attempt,
                            "at": now,
                            "outcome": "delivered" if o.outcome == "delivered" else "failed",
                            "error": o.error,
                            "duration_ms": o.duration_ms,
                        }
                    )
                if o.outcome in ("failed", "dead"):
                    log.warning("notification %s attempt %s failed: %s", o.row_id, o.attempt, o.error)
            if attempts:
                await session.execute(insert(DeliveryAttempt), attempts)
