"""The response pipeline, in one function like Alertmanager's ``PipelineBuilder``.

:func:`build_stages` lists the order: dedup → inhibit → silence → maintenance → route → repeat → group →
escalate → notify (the maintenance Muter is ``ResponseContext.hold``, passed in by the integrator).
(Routing comes before grouping because a route decides how its alerts are grouped, as in Alertmanager's
dispatcher.) :class:`ResponsePipeline` is plugged into :class:`~fictra.monitors.pipeline.AlertPipeline`
as its ``on_changes`` hook and runs in the alert store's transaction. Muted alerts stay in the store
and get an ``alert_response`` row (with ``muted_by``); they are neither grouped, notified nor escalated.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert, AlertStatus, Confirmation, EventKind
from fictra.alerting.values import AlertChange
from fictra.response import engine, group_store
from fictra.response.config import InhibitRule
from fictra.response.context import ResponseContext
from fictra.response.group_message import send_groups
from fictra.response.grouping import Dispatcher, GroupedAlert, GroupNotification
from fictra.response.inhibit import Inhibitor, Source
from fictra.response.matchers import alert_labels
from fictra.response.models import AlertResponse
from fictra.response.muting import Muter
from fictra.response.repeats import notify_repeat
from fictra.response.routing import RouteOpts, match_routes
from fictra.response.silences import SilenceMuter

log = logging.getLogger(__name__)


@dataclass
class Item:
    """One alert moving through the stages."""

    change: AlertChange
    alert: Alert
    labels: dict[str, str]
    muted_by: str | None = None
    routes: list[RouteOpts] = field(default_factory=list)

    @property
    def firing(self) -> bool:
        return (
            self.alert.status == AlertStatus.FIRING.value
            and self.alert.confirmation != Confirmation.RETRACTED.value
        )


@dataclass
class Run:
    session: AsyncSession
    ctx: ResponseContext
    now: datetime
    items: list[Item]
    notifications: list[GroupNotification] = field(default_factory=list)


Stage = Callable[[Run], Awaitable[None]]


def _source_monitors(rules: Sequence[InhibitRule]) -> set[str] | None:
    """The monitors every rule's sources must come from (``monitor="x"`` matchers), or None when some
    rule takes sources from any monitor."""
    names: set[str] = set()
    for rule in rules:
        exact = [m.value for m in rule.source_matchers if m.name == "monitor" and m.op == "="]
        if not exact:
            return None
        names.add(exact[0])
    return names


async def firing_sources(session: AsyncSession, rules: Sequence[InhibitRule] = ()) -> list[Source]:
    """Firing alerts that may inhibit others (only those of the rules' source monitors when they name
    them, so the query stays small however many alerts fire)."""
    stmt = select(Alert.id, Alert.labels, Alert.severity, Alert.monitor, Alert.network).where(
        Alert.status == AlertStatus.FIRING.value, Alert.confirmation != Confirmation.RETRACTED.value
    )
    monitors = _source_monitors(rules) if rules else None
    if monitors is not None:
        stmt = stmt.where(Alert.monitor.in_(sorted(monitors)))
    rows = await session.execute(stmt)
    return [
        Source(i, alert_labels(labels=lb or {}, severity=s, monitor=m, network=n)) for i, lb, s, m, n in rows
    ]


def dedup(changes: Sequence[AlertChange]) -> list[AlertChange]:
    """The last change of each alert in one batch (its row already holds the final state)."""
    last: dict[int, AlertChange] = {}
    for change in changes:
        last.pop(change.alert_id, None)
        last[change.alert_id] = change
    return list(last.values())


def mute_stage(name: str, load: Callable[[Run], Awaitable[Muter | None]]) -> Stage:
    """One stage for every Muter (inhibition rules, silences): marks firing items muted."""

    async def stage(run: Run) -> None:
        candidates = [i for i in run.items if i.firing and i.muted_by is None]
        if not candidates:
            return
        muter = await load(run)
        if muter is None:
            return
        for item in candidates:
            item.muted_by = muter.mutes(item.labels, alert_id=item.alert.id)
            if item.muted_by:
                log.debug("alert %s muted by %s (%s stage)", item.alert.id, item.muted_by, name)

    return stage


async def _inhibitor(run: Run) -> Muter | None:
    rules = run.ctx.config.inhibit.inhibit_rules
    return Inhibitor(rules, await firing_sources(run.session, rules)) if rules else None


async def _silences(run: Run) -> Muter | None:
    return await SilenceMuter.load(run.session, now=run.now)


async def _maintenance(run: Run) -> Muter | None:
    return await run.ctx.hold(run.session, run.now) if run.ctx.hold is not None else None


async def route_stage(run: Run) -> None:
    for item in run.items:
        if item.muted_by is None:
            item.routes = match_routes(run.ctx.config.routing.route, item.labels)


async def repeat_stage(run: Run) -> None:
    """A repeat of a firing one-off event: its own notification now, not through a group (see
    :mod:`fictra.response.repeats`); muted or no longer firing: nothing."""
    for item in run.items:
        if item.change.kind == EventKind.REPEATED and item.firing and item.muted_by is None:
            if item.change.occurrence_id is not None and item.routes:
                await notify_repeat(
                    run.session,
                    run.ctx,
                    alert=item.alert,
                    occurrence_id=item.change.occurrence_id,
                    routes=item.routes,
                )


async def group_stage(run: Run) -> None:
    """Groups are loaded from and saved to the database in this (the alert store's) transaction."""
    dispatcher: Dispatcher | None = None
    for item in run.items:
        if item.change.kind == EventKind.REPEATED:  # told by repeat_stage; the group already holds it
            continue
        grouped = GroupedAlert(
            item.alert.id,
            item.labels,
            item.firing,
            item.alert.summary,
            item.alert.severity,
            deadline=item.alert.ack_deadline,
            evidence=dict(item.alert.evidence or {}),
        )
        for opts in item.routes:
            dispatcher = dispatcher or await group_store.load(run.session, run.ctx.config.routing.route)
            dispatcher.add(opts, grouped, now=run.now)
    if dispatcher is None:  # no routed item: due groups are the tick's business
        return
    run.notifications.extend(dispatcher.flush_due(now=run.now))
    await group_store.save(run.session, dispatcher)


async def escalate_stage(run: Run) -> None:
    directory = None
    for item in run.items:
        kind = item.change.kind
        if kind in (EventKind.FIRED, EventKind.REFIRED) and item.firing:
            row = await engine.start(
                run.session, run.ctx, alert=item.alert, now=run.now, muted_by=item.muted_by
            )
            if item.muted_by is None and row.next_escalation_at is not None:
                directory = directory or await run.ctx.directory(run.session, now=run.now)
                await engine.advance(
                    run.session,
                    run.ctx,
                    row=row,
                    alert=item.alert,
                    now=run.now,
                    reason="fired",
                    directory=directory,
                )
            elif item.muted_by is not None:
                row.next_escalation_at = run.now + run.ctx.mute_recheck
        elif not item.firing:
            row_or_none = await run.session.get(AlertResponse, item.alert.id)
            if row_or_none is not None:
                engine.stop(row_or_none, now=run.now)


async def notify_stage(run: Run) -> None:
    await send_groups(run.session, run.ctx, run.notifications)


def build_stages() -> list[Stage]:
    """The pipeline order, in one place."""
    return [
        mute_stage("inhibit", _inhibitor),
        mute_stage("silence", _silences),
        mute_stage("maintenance", _maintenance),
        route_stage,
        repeat_stage,
        group_stage,
        escalate_stage,
        notify_stage,
    ]


class ResponsePipeline:
    """``AlertPipeline(on_changes=ResponsePipeline(ctx).on_changes)``."""

    def __init__(self, ctx: ResponseContext) -> None:
        self.ctx = ctx
        self.stages = build_stages()

    async def on_changes(self, changes: list[AlertChange], session: AsyncSession) -> None:
        # stage 1: dedup (a ``repeated`` change is one occurrence each: none is folded into another)
        repeated = [c for c in changes if c.kind == EventKind.REPEATED]
        unique = dedup([c for c in changes if c.kind != EventKind.REPEATED]) + repeated
        if not unique:
            return
        ids = [c.alert_id for c in unique]
        alerts = {
            a.id: a
            for a in (
                await session.execute(
                    select(Alert).where(Alert.id.in_(ids)).execution_options(populate_existing=True)
                )
            ).scalars()
        }
        items = [
            Item(
                c,
                alerts[c.alert_id],
                alert_labels(
                    labels=alerts[c.alert_id].labels or {},
                    severity=alerts[c.alert_id].severity,
                    monitor=alerts[c.alert_id].monitor,
                    network=alerts[c.alert_id].network,
                ),
            )
            for c in unique
            if c.alert_id in alerts
        ]
        run = Run(session, self.ctx, self.ctx.clock.now(), items)
        for stage in self.stages:
            await stage(run)
