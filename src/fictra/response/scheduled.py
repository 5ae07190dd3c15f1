"""The escalation/SLA tick: a platform task driven by the injected clock.

Each :func:`tick` (one transaction):

1. records acknowledgement-deadline breaches of unacknowledged firing alerts;
2. records resolve-deadline breaches and escalates one level again, even when acknowledged;
3. moves up every unacknowledged alert whose level has waited long enough (snoozed ones once the
   snooze ends);
4. flushes the aggregation groups that are due (loaded from and saved to ``response_groups``).

Muted alerts (silenced or inhibited) notify nobody: their escalation waits until they are unmuted.
Their SLA clocks keep running and breaches are recorded (a silence does not acknowledge an alert).
Alerts *held* by a maintenance window (``ctx.hold``) are muted too, but their SLA clocks pause: no
breach is recorded while held, and the maintenance domain moves the deadlines by the held time on release.
The alert row is the truth for acknowledgement and resolution (whoever acknowledged it, through this
package or not); rows whose alert is no longer firing are stopped here.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.models import Alert, AlertStatus, Confirmation
from fictra.response import engine, group_store
from fictra.response.context import ResponseContext
from fictra.response.group_message import send_groups
from fictra.response.inhibit import Inhibitor
from fictra.response.matchers import alert_labels
from fictra.response.models import AlertResponse
from fictra.response.oncall import Directory
from fictra.response.pipeline import firing_sources
from fictra.response.silences import SilenceMuter
from fictra.response.sla import record_breach

log = logging.getLogger(__name__)

BATCH = 500


@dataclass
class TickResult:
    escalated: list[int] = field(default_factory=list)
    ack_breaches: list[int] = field(default_factory=list)
    resolve_breaches: list[int] = field(default_factory=list)
    stopped: list[int] = field(default_factory=list)
    groups_sent: int = 0


def _still_firing(alert: Alert) -> bool:
    return alert.status == AlertStatus.FIRING.value and alert.confirmation != Confirmation.RETRACTED.value


async def _follow_severity(session: AsyncSession, ctx: ResponseContext, now: datetime) -> None:
    """An alert the store raised to a worse severity (a more severe finding of the same condition, which
    is no new event) gets that severity's deadlines; its next level comes no later than the new
    acknowledgement deadline."""
    since = ctx.last_tick - timedelta(seconds=1) if ctx.last_tick else now - timedelta(days=1)
    stmt = (  # raised only by a new finding, so only alerts seen since the last tick (last_seen index)
        select(AlertResponse, Alert)
        .join(AlertResponse, AlertResponse.alert_id == Alert.id)
        .where(
            Alert.last_seen >= since, AlertResponse.active.is_(True), AlertResponse.severity != Alert.severity
        )
        .limit(BATCH)
    )
    for row, alert in [(r[0], r[1]) for r in (await session.execute(stmt)).all()]:
        row.severity = alert.severity
        row.ack_deadline = alert.ack_deadline
        row.resolve_deadline = min(
            row.resolve_deadline, alert.fired_at + ctx.resolve_deadline(alert.severity)
        )
        if row.next_escalation_at is not None:
            row.next_escalation_at = min(row.next_escalation_at, max(now, alert.ack_deadline))
        row.updated_at = now
    await session.flush()


async def tick(session: AsyncSession, ctx: ResponseContext) -> TickResult:
    now = ctx.clock.now()
    result = TickResult()
    await group_store.lock(session)  # first, as the follower takes it before its alert_response rows
    await _follow_severity(session, ctx, now)
    active = AlertResponse.active.is_(True)
    due_ids: set[int] = set()
    for condition in (  # one index range each (an OR of the three makes SQLite scan the table)
        (AlertResponse.next_escalation_at <= now,),
        (
            AlertResponse.ack_breached.is_(False),
            AlertResponse.ack_deadline <= now,
            AlertResponse.acknowledged_at.is_(None),
        ),
        (AlertResponse.resolve_breached.is_(False), AlertResponse.resolve_deadline <= now),
    ):
        found = await session.execute(select(AlertResponse.alert_id).where(active, *condition).limit(BATCH))
        due_ids.update(found.scalars())
    ids = sorted(due_ids)[:BATCH]
    stmt = (
        select(AlertResponse, Alert)
        .join(Alert, Alert.id == AlertResponse.alert_id)
        .where(AlertResponse.alert_id.in_(ids))
        .order_by(AlertResponse.alert_id)
        .execution_options(populate_existing=True)
    )
    pairs = [(r[0], r[1]) for r in (await session.execute(stmt)).all()]
    directory: Directory | None = None
    silences = await SilenceMuter.load(session, now=now) if pairs else None
    rules = ctx.config.inhibit.inhibit_rules
    inhibitor = Inhibitor(rules, await firing_sources(session, rules)) if pairs and rules else None
    holder = await ctx.hold(session, now) if pairs and ctx.hold is not None else None
    for row, alert in pairs:
        if not _still_firing(alert):
            engine.stop(row, now=now)
            result.stopped.append(alert.id)
            continue
        if alert.acknowledged_at is not None and row.acknowledged_at is None:
            row.acknowledged_at = alert.acknowledged_at
            row.next_escalation_at = None
        labels = alert_labels(
            labels=alert.labels or {}, severity=alert.severity, monitor=alert.monitor, network=alert.network
        )
        muted = None
        for muter in (inhibitor, silences):
            muted = muted or (muter.mutes(labels, alert_id=alert.id) if muter is not None else None)
        held = holder.mutes(labels, alert_id=alert.id) if holder is not None else None
        muted = muted or held
        row.muted_by = muted
        if held is not None:  # SLA clocks paused while held; released by the maintenance domain
            if row.next_escalation_at is not None and row.next_escalation_at <= now:
                row.next_escalation_at = now + ctx.mute_recheck
            continue
        if not row.ack_breached and row.acknowledged_at is None and row.ack_deadline <= now:
            row.ack_breached = True
            await record_breach(session, row=row, kind="acknowledge", at=now, metrics=ctx.metrics)
            result.ack_breaches.append(alert.id)
        resolve_breach = not row.resolve_breached and row.resolve_deadline <= now
        if resolve_breach:
            row.resolve_breached = True
            await record_breach(session, row=row, kind="resolve", at=now, metrics=ctx.metrics)
            result.resolve_breaches.append(alert.id)
        if muted is not None:  # nobody is notified while muted; the path resumes once unmuted
            if row.next_escalation_at is not None and row.next_escalation_at <= now:
                row.next_escalation_at = now + ctx.mute_recheck
            continue
        directory = directory or await ctx.directory(session, now=now)
        if resolve_breach:
            step = await engine.advance(
                session,
                ctx,
                row=row,
                alert=alert,
                now=now,
                reason="resolve_breach",
                directory=directory,
                keep_going=row.acknowledged_at is None,
            )
            if step is not None:
                result.escalated.append(alert.id)
            continue
        if row.acknowledged_at is not None or row.next_escalation_at is None or row.next_escalation_at > now:
            continue
        if row.snoozed_until is not None and row.snoozed_until > now:
            row.next_escalation_at = row.snoozed_until
            continue
        step = await engine.advance(
            session, ctx, row=row, alert=alert, now=now, reason="timeout", directory=directory
        )
        if step is not None:
            result.escalated.append(alert.id)
    ctx.last_tick = now
    dispatcher = await group_store.load(session, ctx.config.routing.route)
    groups = dispatcher.flush_due(now=now)
    await send_groups(session, ctx, groups)
    await group_store.save(session, dispatcher)
    result.groups_sent = len(groups)
    return result


async def tick_loop(
    sessions: async_sessionmaker[AsyncSession],
    ctx: ResponseContext,
    stop: asyncio.Event,
    *,
    interval: float = 5.0,
) -> None:
    """Run :func:`tick` every ``interval`` seconds (on the injected clock) until ``stop``."""
    from fictra.clock import wait_or_stop

    while not stop.is_set():
        async with sessions.begin() as session:
            result = await tick(session, ctx)
        if result.escalated or result.ack_breaches or result.resolve_breaches:
            log.info(
                "escalation tick: escalated %s, ack breaches %s, resolve breaches %s",
                result.escalated,
                result.ack_breaches,
                result.resolve_breaches,
            )
        if await wait_or_stop(stop, interval, ctx.clock):
            return
