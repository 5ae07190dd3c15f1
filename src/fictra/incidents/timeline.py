"""An incident's timeline: its own events, its alerts' events and its emergency actions' events, in time
order.

Kinds are namespaced by source: ``incident.<kind>`` (declared, phase, output, role, note, status_update,
evidence, task, meeting, alerts_linked, reminder, closed), ``alert.<kind>`` (fired, refired, confirmed,
acknowledged, resolved, retracted, note...) and ``action.<event>`` from
:func:`fictra.emergency.service.events_for_incident` (proposed, approved, dry run, submitted with the tx
hash, included with block and gas, confirmed, verified, failed) — on-chain transactions reach the
timeline through those action events.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert, AlertEvent
from fictra.emergency.service import events_for_incident
from fictra.emergency.types import TimelineItem
from fictra.incidents.models import IncidentAlert, IncidentEvent
from fictra.incidents.service import get_incident

__all__ = ["TimelineItem", "timeline"]

_ALERT_VERBS = {
    "fired": "fired",
    "refired": "fired again",
    "confirmed": "confirmed (enough blocks on top)",
    "retracted": "retracted (its block left the chain)",
    "resolved": "resolved",
    "acknowledged": "acknowledged",
    "note": "note",
}


def _alert_text(alert: Alert, kind: str, details: dict[str, Any]) -> str:
    verb = _ALERT_VERBS.get(kind, kind)
    head = f"Alert {alert.id} ({alert.severity}, {alert.monitor}) {verb}"
    if kind == "note" and details.get("text"):
        return f"Alert {alert.id} note: {details['text']}"
    if kind in ("fired", "refired"):
        return f"{head}: {alert.summary}"
    if details.get("note"):
        return f"{head}: {details['note']}"
    return head


def _alert_actor(alert: Alert, details: dict[str, Any]) -> str:
    by = details.get("by")
    return str(by) if by else f"monitor:{alert.monitor}"


async def timeline(session: AsyncSession, incident_id: int) -> list[TimelineItem]:
    """Everything that happened to the incident and what it is linked to, oldest first. Ties (one
    transaction, one timestamp) put alert events first — an alert fires before an incident is declared
    from it — then incident events, then actions, each in its own order."""
    await get_incident(session, incident_id)  # NotFoundError for an unknown id
    items: list[tuple[int, int, TimelineItem]] = []
    own = (
        (
            await session.execute(
                select(IncidentEvent)
                .where(IncidentEvent.incident_id == incident_id)
                .order_by(IncidentEvent.id)
            )
        )
        .scalars()
        .all()
    )
    for e in own:
        items.append(
            (1, e.id, TimelineItem(e.at, f"incident.{e.kind}", e.actor, e.text, e.ref, dict(e.details or {})))
        )
    linked = select(IncidentAlert.alert_id).where(IncidentAlert.incident_id == incident_id)
    rows = await session.execute(
        select(AlertEvent, Alert)
        .join(Alert, Alert.id == AlertEvent.alert_id)
        .where(AlertEvent.alert_id.in_(linked))
        .order_by(AlertEvent.id)
    )
    for event, alert in rows.all():
        details = dict(event.details or {})
        items.append(
            (
                0,
                event.id,
                TimelineItem(
                    event.at,
                    f"alert.{event.kind}",
                    _alert_actor(alert, details),
                    _alert_text(alert, event.kind, details),
                    f"alert:{alert.id}",
                    {"alert_id": alert.id, "severity": alert.severity, "monitor": alert.monitor, **details},
                ),
            )
        )
    for n, item in enumerate(await events_for_incident(session, incident_id)):
        items.append((2, n, item))
    items.sort(key=lambda t: (t[2].at, t[0], t[1]))
    return [item for _, _, item in items]
