"""An incident's timeline: its own events, its alerts' events and its emergency actions' events, in time
order.

Kinds are namespaced by source: ``incident.<kind>`` (declared, phase, output, role, note, status_update,
evidence, task, meeting, alerts_linked, reminder, closed), ``alert.<kind>`` (fired, refired, confirmed,
acknowledged, resolved, retracted, note...) and ``action.<event>`` from the
:class:`~fictra.incidents.linked_actions.ActionLedger` the caller passes (proposed, approved, dry run,
submitted with the tx hash, included with block and gas, confirmed, verified, failed) — on-chain
transactions reach the timeline through those action events. Without a ledger there are no action
events (a platform without emergency actions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert, AlertEvent
from fictra.incidents.linked_actions import NO_ACTIONS, ActionLedger
from fictra.incidents.models import IncidentAlert, IncidentEvent
from fictra.incidents.queries import get_incident

__all__ = ["TimelineItem", "timeline"]


@dataclass
class TimelineItem:
    """One line of an incident timeline: when, what kind of event, who, a readable sentence, a reference
    (``alert:3``, ``action:12``, a tx hash...) and the structured details behind the sentence."""

    at: datetime
    kind: str
    actor: str
    text: str
    ref: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


_ALERT_VERBS = {
    "fired": "fired",
    "refired": "fired again",
    "repeated": "happened again (still firing; told again)",
    "confirmed": "confirmed (enough blocks on top)",
    "retracted": "retracted (its block left the chain)",
    "resolved": "resolved",
    "acknowledged": "acknowledged",
    "note": "note",
}


def _alert_text(alert: Alert, kind: str, details: dict[str, Any]) -> str:
    verb = _ALERT_VERBS.get(kind, kind)
    # a fired/refired/repeated entry says what held then (written once), not what the alert says now
    severity = details.get("severity") or alert.severity
    head = f"Alert {alert.id} ({severity}, {alert.monitor}) {verb}"
    if kind == "note" and details.get("text"):
        return f"Alert {alert.id} note: {details['text']}"
    if kind in ("fired", "refired", "repeated"):
        return f"{head}: {details.get('summary') or alert.summary}"
    if details.get("note"):
        return f"{head}: {details['note']}"
    return head


def _alert_actor(alert: Alert, details: dict[str, Any]) -> str:
    by = details.get("by")
    return str(by) if by else f"monitor:{alert.monitor}"


async def timeline(
    session: AsyncSession, incident_id: int, *, actions: ActionLedger = NO_ACTIONS
) -> list[TimelineItem]:
    """Everything that happened to the incident and what it is linked to, oldest first. Ties (one
    transaction, one timestamp) put alert events first — an alert fires before an incident is declared
    from it — then incident events, then actions (from ``actions``), each in its own order."""
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
    for n, a in enumerate(await actions.timeline(session, incident_id=incident_id)):
        items.append((2, n, TimelineItem(a.at, a.kind, a.actor, a.text, a.ref, dict(a.details))))
    items.sort(key=lambda t: (t[2].at, t[0], t[1]))
    return [item for _, _, item in items]
