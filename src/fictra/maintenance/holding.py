"""Holding alerts in maintenance windows: the response pipeline's ``maintenance`` Muter, the hold rows,
and the release at a window's end.

* :func:`load_muter` (passed to :class:`~fictra.response.context.ResponseContext` as ``hold`` by the
  integrator) mutes an alert whose labels match an open window's scope, and every alert whose hold has
  not been released yet, so that neither notification, escalation nor SLA breach happens in between.
* :func:`sync_holds` writes a hold row per alert in scope (held since it fired or since the window
  opened, whichever is later) and shows the reason on the alert's response row (``muted_by``).
* :func:`release_due` ends the holds of occurrences that are over: an alert still firing gets its SLA
  deadlines moved by the time it was held and one notification through the response routes; an alert
  that cleared is kept but not notified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert, AlertStatus, Confirmation
from fictra.maintenance.models import OPEN_STATES, HoldOutcome, MaintenanceHold, MaintenanceWindow
from fictra.maintenance.windows import active_occurrence
from fictra.notify.message import Message
from fictra.response.context import ResponseContext
from fictra.response.matchers import Matcher, alert_labels, matches_all, parse_matcher
from fictra.response.models import AlertResponse
from fictra.response.routing import match_routes

__all__ = ["PREFIX", "OpenWindow", "WindowMuter", "load_muter", "open_windows", "release_due", "sync_holds"]

PREFIX = "maintenance window"
BATCH = 2000


@dataclass(frozen=True)
class OpenWindow:
    id: int
    title: str
    occurrence: datetime
    matchers: list[Matcher]

    @property
    def reason(self) -> str:
        return f"{PREFIX} {self.id}: {self.title}"[:300]


@dataclass
class WindowMuter:
    """A Muter over the windows open at one instant and the holds not yet released."""

    windows: list[OpenWindow]
    held: dict[int, str] = field(default_factory=dict)  # alert id -> reason (unreleased holds)

    def mutes(self, labels: Mapping[str, str], *, alert_id: int) -> str | None:
        for window in self.windows:
            if matches_all(window.matchers, labels):
                return window.reason
        return self.held.get(alert_id)


async def open_windows(session: AsyncSession, *, now: datetime) -> list[OpenWindow]:
    rows = (
        await session.execute(
            select(MaintenanceWindow).where(
                MaintenanceWindow.state.in_(OPEN_STATES), MaintenanceWindow.starts_at <= now
            )
        )
    ).scalars()
    out = []
    for row in rows:
        occ = active_occurrence(row, now)
        if occ is not None:
            out.append(OpenWindow(row.id, row.title, occ[0], [parse_matcher(m) for m in row.matchers]))
    return out


async def load_muter(session: AsyncSession, now: datetime) -> WindowMuter | None:
    windows = await open_windows(session, now=now)
    held_rows = await session.execute(
        select(MaintenanceHold.alert_id, MaintenanceHold.window_id).where(
            MaintenanceHold.outcome == HoldOutcome.HELD.value
        )
    )
    held = {alert_id: f"{PREFIX} {window_id} (release pending)" for alert_id, window_id in held_rows}
    if not windows and not held:
        return None
    return WindowMuter(windows, held)


def _firing(alert: Alert) -> bool:
    return alert.status == AlertStatus.FIRING.value and alert.confirmation != Confirmation.RETRACTED.value


def _labels(alert: Alert) -> dict[str, str]:
    return alert_labels(
        labels=alert.labels or {}, severity=alert.severity, monitor=alert.monitor, network=alert.network
    )


async def sync_holds(session: AsyncSession, *, now: datetime) -> list[MaintenanceHold]:
    """A hold row for every firing alert in the scope of an open window (new ones returned)."""
    windows = await open_windows(session, now=now)
    if not windows:
        return []
    alerts = (
        (
            await session.execute(
                select(Alert)
                .where(
                    Alert.status == AlertStatus.FIRING.value,
                    Alert.confirmation != Confirmation.RETRACTED.value,
                )
                .order_by(Alert.id)
                .limit(BATCH)
            )
        )
        .scalars()
        .all()
    )
    existing = {
        (w, a)
        for w, a in await session.execute(
            select(MaintenanceHold.window_id, MaintenanceHold.alert_id).where(
                MaintenanceHold.outcome == HoldOutcome.HELD.value
            )
        )
    }
    held_alerts = {a for _, a in existing}
    new: list[MaintenanceHold] = []
    for alert in alerts:
        if alert.id in held_alerts:
            continue
        labels = _labels(alert)
        window = next((w for w in windows if matches_all(w.matchers, labels)), None)
        if window is None:
            continue
        hold = MaintenanceHold(
            window_id=window.id,
            occurrence=window.occurrence,
            alert_id=alert.id,
            held_since=max(alert.fired_at, window.occurrence),
            outcome=HoldOutcome.HELD.value,
        )
        session.add(hold)
        new.append(hold)
        held_alerts.add(alert.id)
        row = await session.get(AlertResponse, alert.id)
        if row is not None and row.muted_by is None:
            row.muted_by = window.reason
            row.updated_at = now
    await session.flush()
    return new


def _release_message(ctx: ResponseContext, alert: Alert, window_id: int, held: timedelta) -> Message:
    minutes = int(held.total_seconds() // 60)
    return Message(
        subject=f"[{alert.severity}] {alert.summary} (held {minutes} min by maintenance window {window_id})"[
            :500
        ],
        body=(
            f"Released at the end of maintenance window {window_id}: still firing after being held "
            f"{minutes} min. Acknowledge at {ctx.link(alert.id)}"
        ),
        severity=alert.severity,
        alert_id=alert.id,
        link=ctx.link(alert.id),
        fields={"maintenance_window": str(window_id), "held_minutes": str(minutes), "monitor": alert.monitor},
        status="firing",
        deadline=alert.ack_deadline,
        group_key=f"alert-{alert.id}",
    )


def _extend(row: AlertResponse, alert: Alert, held: timedelta, now: datetime) -> None:
    """The SLA clocks paused while held: deadlines not yet breached move by the held time."""
    if not row.ack_breached and row.acknowledged_at is None:
        row.ack_deadline = row.ack_deadline + held
        if alert.acknowledged_at is None:
            alert.ack_deadline = max(alert.ack_deadline, row.ack_deadline)
    if not row.resolve_breached:
        row.resolve_deadline = row.resolve_deadline + held
    if row.muted_by is not None and row.muted_by.startswith(PREFIX):
        row.muted_by = None
    if row.active and row.acknowledged_at is None and row.next_escalation_at is not None:
        row.next_escalation_at = min(row.next_escalation_at, now)
    row.updated_at = now


async def release_due(
    session: AsyncSession, *, ctx: ResponseContext, now: datetime
) -> tuple[list[int], list[int]]:
    """Release every hold whose window occurrence is over; (released alert ids, dropped alert ids)."""
    holds = (
        (
            await session.execute(
                select(MaintenanceHold)
                .where(MaintenanceHold.outcome == HoldOutcome.HELD.value)
                .order_by(MaintenanceHold.id)
            )
        )
        .scalars()
        .all()
    )
    still_open = {(w.id, w.occurrence) for w in await open_windows(session, now=now)}
    released: list[int] = []
    dropped: list[int] = []
    for hold in holds:
        if (hold.window_id, hold.occurrence) in still_open:
            continue
        alert = await session.get(Alert, hold.alert_id, populate_existing=True)
        held = max(now - hold.held_since, timedelta(0))
        hold.released_at = now
        hold.held_seconds = int(held.total_seconds())
        if alert is None or not _firing(alert):
            hold.outcome = HoldOutcome.DROPPED.value
            dropped.append(hold.alert_id)
            continue
        hold.outcome = HoldOutcome.RELEASED.value
        released.append(alert.id)
        row = await session.get(AlertResponse, alert.id)
        if row is not None:
            _extend(row, alert, held, now)
        if alert.acknowledged_at is not None:
            continue  # somebody is on it already: the release is not worth a page
        message = _release_message(ctx, alert, hold.window_id, held)
        receivers = dict.fromkeys(r.receiver for r in match_routes(ctx.config.routing.route, _labels(alert)))
        for receiver in receivers:
            await ctx.notify(
                session,
                receiver=receiver,
                message=message,
                key=f"maintenance:{hold.window_id}:{hold.occurrence.timestamp():.0f}:alert:{alert.id}",
            )
    await session.flush()
    return released, dropped
