"""What the response stages need, in one value: config, deadlines, clock, metrics and the notifier
(aggregation groups are in the database: ``response.group_store``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.config import AlertPolicy
from fictra.alerting.findings import Severity
from fictra.clock import Clock
from fictra.notify.message import Message
from fictra.response.loader import ResponseConfig
from fictra.response.models import OncallOverride
from fictra.response.muting import Muter
from fictra.response.oncall import Directory, OverrideSpan
from fictra.response.sla import SlaMetrics

HoldLoader = Callable[[AsyncSession, datetime], Awaitable[Muter | None]]
"""Loads the Muter of maintenance windows at an instant (passed in by the integrator: the response
package does not import the maintenance domain). An alert it mutes is *held*: not notified, not
escalated, and its SLA clocks pause (no breach is recorded; the domain moves the deadlines on release)."""


class Notifier(Protocol):
    def __call__(
        self, session: AsyncSession, *, receiver: str, channel: str, message: Message, idempotency_key: str
    ) -> Awaitable[int | None]: ...


@dataclass
class OutboxNotifier:
    """Notifications go to the persisted outbox (``fictra.notify``), in the caller's transaction."""

    clock: Clock

    async def __call__(
        self, session: AsyncSession, *, receiver: str, channel: str, message: Message, idempotency_key: str
    ) -> int | None:
        from fictra.notify.service import enqueue

        return await enqueue(
            session,
            receiver=receiver,
            channel=channel,
            message=message,
            idempotency_key=idempotency_key,
            clock=self.clock,
        )


@dataclass
class ResponseContext:
    config: ResponseConfig
    clock: Clock
    alert_policy: AlertPolicy = field(default_factory=AlertPolicy)
    metrics: SlaMetrics | None = None
    notifier: Notifier | None = None
    link_base: str = "http://127.0.0.1:8000"
    mute_recheck: timedelta = timedelta(minutes=1)
    last_tick: datetime | None = None  # when the escalation tick last ran (this process)
    hold: HoldLoader | None = None  # maintenance windows' Muter (see HoldLoader)

    def __post_init__(self) -> None:
        if self.notifier is None:
            self.notifier = OutboxNotifier(self.clock)

    def resolve_deadline(self, severity: str) -> timedelta:
        return self.config.escalation.resolve_deadlines.of(severity)

    def ack_wait(self, severity: str) -> timedelta:
        return self.alert_policy.deadline(Severity(severity))

    def link(self, alert_id: int) -> str:
        return f"{self.link_base.rstrip('/')}/alerts/{alert_id}"

    async def notify(self, session: AsyncSession, *, receiver: str, message: Message, key: str) -> list[int]:
        """One outbox row per channel of ``receiver`` (keys ``<key>:<channel>``); ids of the new rows."""
        ids: list[int] = []
        for channel in self.config.channels(receiver):
            if self.notifier is None:  # pragma: no cover - set in __post_init__
                break
            new = await self.notifier(
                session,
                receiver=receiver,
                channel=channel,
                message=message,
                idempotency_key=f"{key}:{channel}"[:255],
            )
            if new is not None:
                ids.append(new)
        return ids

    async def notify_person(
        self, session: AsyncSession, *, person: str, message: Message, key: str
    ) -> list[int]:
        contact = self.config.oncall.people.get(person)
        receiver = contact.receiver if contact is not None else "ops-log"
        return await self.notify(session, receiver=receiver, message=message, key=key)

    async def directory(self, session: AsyncSession, *, now: datetime) -> Directory:
        rows = await session.execute(
            select(OncallOverride).where(
                OncallOverride.ends_at > now - timedelta(days=1),
                OncallOverride.starts_at <= now + timedelta(days=62),
            )
        )
        spans = tuple(
            OverrideSpan(o.schedule, o.person, o.starts_at, o.ends_at, o.source) for o in rows.scalars()
        )
        return Directory(self.config.oncall, spans)
