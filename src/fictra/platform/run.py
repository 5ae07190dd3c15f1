"""Drive a :class:`~fictra.platform.assemble.Platform`: follower, polled monitors, alert gauges, HTTP.

Every task stops when ``stop`` is set. If one fails (the follower's consumer raised, no endpoint is left,
the HTTP port is taken), the others are stopped and the error is raised from :func:`run`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.models import Alert
from fictra.clock import wait_or_stop
from fictra.platform.assemble import Platform

log = logging.getLogger(__name__)


@dataclass
class AlertSummary:
    """Counts of firing alerts by severity, split provisional/confirmed, plus the firing alerts listed most
    severe first (then most recent)."""

    firing: dict[str, int] = field(default_factory=dict)
    provisional: dict[str, int] = field(default_factory=dict)
    recent: list[tuple[str, str, str, datetime]] = field(default_factory=list)  # severity, status, summary
    operations: list[tuple[str, str, bool]] = field(default_factory=list)  # (label, value, attention)

    @property
    def total_firing(self) -> int:
        return sum(self.firing.values())


async def summarize_alerts(sessions: async_sessionmaker[AsyncSession], *, recent: int = 8) -> AlertSummary:
    summary = AlertSummary()
    async with sessions() as session:
        rows = await session.execute(
            select(Alert.severity, Alert.confirmation, func.count())
            .where(Alert.status == "firing", Alert.confirmation != "retracted")
            .group_by(Alert.severity, Alert.confirmation)
        )
        for severity, confirmation, count in rows:
            sev = str(getattr(severity, "value", severity))
            summary.firing[sev] = summary.firing.get(sev, 0) + int(count)
            if str(getattr(confirmation, "value", confirmation)) == "provisional":
                summary.provisional[sev] = summary.provisional.get(sev, 0) + int(count)
        # the firing alerts, most severe first (a P0 never scrolls away under newer P3s), newest first within
        latest = await session.execute(
            select(Alert.severity, Alert.status, Alert.summary, Alert.last_seen)
            .where(Alert.status == "firing", Alert.confirmation != "retracted")
            .order_by(Alert.severity, Alert.last_seen.desc())
            .limit(recent)
        )
        summary.recent = [
            (str(getattr(s, "value", s)), str(getattr(st, "value", st)), text, seen)
            for s, st, text, seen in latest
        ]
    return summary


async def gauge_loop(
    platform: Platform, stop: asyncio.Event, on_summary: Callable[[AlertSummary], None] | None
) -> None:
    """Refresh the alert gauges (and the terminal view's summary) every two seconds, and what the
    operations domains are doing (incidents, actions, procedures, tickets, jobs) every ten."""
    from fictra.platform.operations import operations_summary

    gauge = platform.metrics.alerts
    rounds = 0
    operations: list[tuple[str, str, bool]] = []
    while not stop.is_set():
        summary = await summarize_alerts(platform.sessions)
        if rounds % 5 == 0 and on_summary is not None:
            operations = (await operations_summary(platform)).rows
        rounds += 1
        summary.operations = operations
        for severity in ("P0", "P1", "P2", "P3"):
            firing = summary.firing.get(severity, 0)
            provisional = summary.provisional.get(severity, 0)
            gauge.labels(severity, "firing", "confirmed").set(firing - provisional)
            gauge.labels(severity, "firing", "provisional").set(provisional)
        if on_summary is not None:
            on_summary(summary)
        if await wait_or_stop(stop, 2.0, platform.clock):
            return


Named = tuple[str, Callable[[asyncio.Event], Awaitable[None]]]


async def run(
    platform: Platform,
    *,
    stop: asyncio.Event,
    extra: Sequence[Callable[[asyncio.Event], Awaitable[None]] | Named] | None = None,
    on_summary: Callable[[AlertSummary], None] | None = None,
) -> None:
    """Run until ``stop`` is set or a task fails (then stop the rest and raise the first error).

    Every task is a component of ``platform.supervisor`` (restartable by name: ``follower``,
    ``alert-gauges``, ``jobs`` (the scheduler: every periodic job of :mod:`fictra.platform.jobs`),
    ``emergency`` (the action runner, when assembled), and each ``extra`` given as ``(name, task)``;
    unnamed extras are ``task-<n>``)."""

    async def guarded(coro: Awaitable[None]) -> None:
        try:
            await coro
        finally:
            stop.set()  # one task ending (error or not) ends the platform

    supervisor = platform.supervisor
    tasks: list[Named] = [
        ("follower", platform.follower.run),
        ("alert-gauges", lambda st: gauge_loop(platform, st, on_summary)),
        ("jobs", platform.scheduler.run),  # polled monitors, ticks, outbox, checkpoints (platform.jobs)
    ]
    if platform.emergency is not None:
        tasks.append(("emergency", platform.emergency.run))  # woken by the policy stage after commit
    if platform.support is not None and platform.support.config.intake.enabled:
        tasks.append(("support-intake", lambda st: _smtp_intake(platform, st)))  # tickets by email
    for i, item in enumerate(extra or []):
        tasks.append(item if isinstance(item, tuple) else (f"task-{i}", item))
    coros = [supervisor.component(name, task)(stop) for name, task in tasks]
    async with asyncio.TaskGroup() as group:
        for coro in coros:
            group.create_task(guarded(coro))


async def _smtp_intake(platform: Platform, stop: asyncio.Event) -> None:
    """The support queue's inbound SMTP server (support.yaml ``intake``) until ``stop``."""
    from fictra.support.intake import SmtpIntake

    if platform.support is None:
        return
    intake = SmtpIntake(config=platform.support.config, sessions=platform.sessions, clock=platform.clock)
    await intake.start()
    try:
        await stop.wait()
    finally:
        await intake.stop()
