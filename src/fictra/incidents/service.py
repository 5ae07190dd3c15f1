"""The incident's life: declare, link alerts, notes, advance through the phases, reclassify, close.

Every function works in the caller's transaction and never commits: the change, its timeline entry
(``incident_events``) and its audit entry commit together or not at all. Phase changes are conditional
UPDATEs (``... WHERE phase = :current AND status = 'open'``) so two people advancing at once cannot both
win. Refusals are :class:`~fictra.errors.ConflictError` naming each missing output and how to provide it.

Outputs are :mod:`fictra.incidents.outputs`, roles :mod:`fictra.incidents.roles`, reads
:mod:`fictra.incidents.queries`, the timeline/audit records :mod:`fictra.incidents.events`. The names
re-exported below from those modules keep older imports (``service.get_incident``...) working; new code
imports them from their own module.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name
from fictra.clock import Clock
from fictra.errors import ConflictError, UsageError
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.events import audit_change, log_event, snapshot
from fictra.incidents.models import Incident, IncidentAlert
from fictra.incidents.outputs import mark_output, put_output, record_output, refusal, spec_of
from fictra.incidents.phases import CATEGORIES, PHASES, SEVERITIES, Phase, next_phase
from fictra.incidents.queries import count_open, get_incident, incident_for_alert, list_incidents
from fictra.incidents.records import (
    CLOSED,
    OPEN,
    TITLE_MAX,
    check_alerts,
    check_choice,
    check_user,
    clean_text,
    load_incident,
    require_open,
)
from fictra.incidents.roles import ROLES, assign_role
from fictra.incidents.schemas import IncidentView

__all__ = [
    "CLOSED",
    "OPEN",
    "ROLES",
    "add_note",
    "advance",
    "assign_role",
    "audit_change",
    "check_user",
    "clean_text",
    "close",
    "count_open",
    "declare",
    "get_incident",
    "incident_for_alert",
    "link_alerts",
    "list_incidents",
    "load_incident",
    "log_event",
    "mark_output",
    "reclassify",
    "record_output",
    "require_open",
]


async def declare(
    session: AsyncSession,
    *,
    title: str,
    severity: str,
    category: str,
    actor: object,
    clock: Clock,
    alert_ids: Iterable[int] = (),
    summary: str | None = None,
    source: str = "manual",
    config: IncidentsConfig | None = None,
) -> IncidentView:
    """Open an incident in the detection phase, linked to ``alert_ids`` (may be empty: from scratch).
    Classification is recorded at once; the first status update is due after the severity's cadence."""
    name = clean_text(title, what="incident title", limit=TITLE_MAX)
    check_choice(severity, SEVERITIES, "Severity")
    check_choice(category, CATEGORIES, "Category")
    body = clean_text(summary, what="incident summary") if summary and summary.strip() else None
    alerts = await check_alerts(session, alert_ids)
    now = clock.now()
    due = now + (config or IncidentsConfig()).cadence_of(severity)
    who = actor_name(actor)
    incident = Incident(
        title=name,
        summary=body,
        severity=severity,
        category=category,
        phase=Phase.DETECTION.value,
        status=OPEN,
        source=source,
        declared_at=now,
        declared_by=who,
        responders=[],
        next_update_due=due,
        updated_at=now,
    )
    session.add(incident)
    await session.flush()
    iid = incident.id
    if alerts:
        await session.execute(
            insert(IncidentAlert),
            [{"incident_id": iid, "alert_id": a, "linked_at": now, "linked_by": who} for a in alerts],
        )
    origin = f" from alert(s) {', '.join(map(str, alerts))}" if alerts else " from scratch"
    await log_event(
        session,
        incident_id=iid,
        kind="declared",
        actor=actor,
        clock=clock,
        text=f"{severity} {category} incident declared{origin}: {name}",
        details={"severity": severity, "category": category, "alert_ids": alerts, "source": source},
    )
    await put_output(
        session,
        incident=incident,
        spec=spec_of("classification"),
        status="done",
        text=f"{severity} / {category}",
        source="declaration",
        actor=actor,
        clock=clock,
    )
    await audit_change(
        session,
        actor=actor,
        action="incident.declare",
        incident_id=iid,
        clock=clock,
        after={**snapshot(incident), "alert_ids": alerts, "source": source},
        reason=body,
    )
    return await get_incident(session, iid)


async def link_alerts(
    session: AsyncSession, *, incident_id: int, alert_ids: Iterable[int], actor: object, clock: Clock
) -> IncidentView:
    """Attach more alerts to an open incident (already linked ones are ignored)."""
    incident = await load_incident(session, incident_id)
    require_open(incident, "linked to alerts")
    wanted = await check_alerts(session, alert_ids)
    have = set(
        (
            await session.execute(
                select(IncidentAlert.alert_id).where(IncidentAlert.incident_id == incident_id)
            )
        ).scalars()
    )
    new = [a for a in wanted if a not in have]
    if not new:
        return await get_incident(session, incident_id)
    now = clock.now()
    who = actor_name(actor)
    await session.execute(
        insert(IncidentAlert),
        [{"incident_id": incident_id, "alert_id": a, "linked_at": now, "linked_by": who} for a in new],
    )
    await log_event(
        session,
        incident_id=incident_id,
        kind="alerts_linked",
        actor=actor,
        clock=clock,
        text=f"Alert(s) {', '.join(map(str, new))} joined the incident",
        details={"alert_ids": new},
    )
    await audit_change(
        session,
        actor=actor,
        action="incident.link",
        incident_id=incident_id,
        clock=clock,
        after={"alert_ids": new},
    )
    return await get_incident(session, incident_id)


async def add_note(
    session: AsyncSession, *, incident_id: int, text: str, actor: object, clock: Clock
) -> IncidentView:
    """A note on the incident's timeline (also allowed after closing: late findings)."""
    body = clean_text(text, what="note")
    await load_incident(session, incident_id)
    await log_event(session, incident_id=incident_id, kind="note", actor=actor, clock=clock, text=body)
    await audit_change(
        session,
        actor=actor,
        action="incident.note",
        incident_id=incident_id,
        clock=clock,
        after={"note": body},
    )
    return await get_incident(session, incident_id)


async def advance(
    session: AsyncSession,
    *,
    incident_id: int,
    to_phase: str,
    actor: object,
    clock: Clock,
    note: str | None = None,
) -> IncidentView:
    """Move to the next phase (``to_phase`` must be it; "closed" is :func:`close`). Refused while the
    current phase's required outputs are missing, naming each and how to provide it."""
    target = check_choice(to_phase, [p.value for p in PHASES], "Phase")
    if target == Phase.CLOSED.value:
        return await close(session, incident_id=incident_id, actor=actor, clock=clock, note=note)
    incident = await load_incident(session, incident_id)
    require_open(incident, "advanced")
    current = incident.phase
    expected = next_phase(current)
    if expected is None or expected.value != target:
        raise ConflictError(
            f"Incident {incident_id} is in phase {current}; it can only advance to "
            f"{expected.value if expected else 'nothing'} (phases: {' -> '.join(p.value for p in PHASES)})."
        )
    view = await get_incident(session, incident_id)
    missing = [o for o in view.outputs if o.phase == current and o.status == "missing"]
    if missing:
        raise refusal(incident_id, f"leave phase {current}", missing)
    reason = clean_text(note, what="note") if note and note.strip() else None
    now = clock.now()
    result = await session.execute(
        update(Incident)
        .where(Incident.id == incident_id, Incident.phase == current, Incident.status == OPEN)
        .values(phase=target, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise ConflictError(
            f"Incident {incident_id} changed while advancing (someone else moved it); reload it."
        )
    await log_event(
        session,
        incident_id=incident_id,
        kind="phase",
        actor=actor,
        clock=clock,
        text=f"Phase {current} -> {target}" + (f": {reason}" if reason else ""),
        details={"from": current, "to": target},
    )
    await audit_change(
        session,
        actor=actor,
        action="incident.advance",
        incident_id=incident_id,
        clock=clock,
        before={"phase": current},
        after={"phase": target},
        reason=reason,
    )
    return await get_incident(session, incident_id)


async def reclassify(
    session: AsyncSession,
    *,
    incident_id: int,
    actor: object,
    clock: Clock,
    severity: str | None = None,
    category: str | None = None,
    reason: str | None = None,
    config: IncidentsConfig | None = None,
) -> IncidentView:
    """Change the severity and/or category of an open incident (triage found it worse or milder). The
    classification output is re-recorded and the next update is due by the new severity's cadence."""
    if severity is None and category is None:
        raise UsageError("Nothing to change: give a severity and/or a category.")
    if severity is not None:
        check_choice(severity, SEVERITIES, "Severity")
    if category is not None:
        check_choice(category, CATEGORIES, "Category")
    why = clean_text(reason, what="reason") if reason and reason.strip() else None
    incident = await load_incident(session, incident_id)
    require_open(incident, "reclassified")
    before = {"severity": incident.severity, "category": incident.category}
    after = {"severity": severity or incident.severity, "category": category or incident.category}
    if after == before:
        raise ConflictError(
            f"Incident {incident_id} is already {before['severity']} / {before['category']}; "
            "nothing to change."
        )
    now = clock.now()
    incident.severity, incident.category = after["severity"], after["category"]
    if after["severity"] != before["severity"]:
        since = incident.last_update_at or incident.declared_at
        incident.next_update_due = since + (config or IncidentsConfig()).cadence_of(incident.severity)
        incident.reminded_for = None
    incident.updated_at = now
    await session.flush()
    text = f"{after['severity']} / {after['category']} (was {before['severity']} / {before['category']})"
    await put_output(
        session,
        incident=incident,
        spec=spec_of("classification"),
        status="done",
        text=text + (f": {why}" if why else ""),
        source="reclassified",
        actor=actor,
        clock=clock,
    )
    await log_event(
        session,
        incident_id=incident_id,
        kind="classified",
        actor=actor,
        clock=clock,
        text=f"Reclassified {text}" + (f": {why}" if why else ""),
        details={"before": before, "after": after},
    )
    await audit_change(
        session,
        actor=actor,
        action="incident.classify",
        incident_id=incident_id,
        clock=clock,
        before=before,
        after=after,
        reason=why,
    )
    return await get_incident(session, incident_id)


async def close(
    session: AsyncSession, *, incident_id: int, actor: object, clock: Clock, note: str | None = None
) -> IncidentView:
    """Close the incident. Refused while any required output of any phase is missing (naming each)."""
    incident = await load_incident(session, incident_id)
    require_open(incident, "closed again")
    view = await get_incident(session, incident_id)
    missing = [o for o in view.outputs if o.status == "missing"]
    if missing:
        raise refusal(incident_id, "close", missing)
    reason = clean_text(note, what="note") if note and note.strip() else None
    now = clock.now()
    current = incident.phase
    result = await session.execute(
        update(Incident)
        .where(Incident.id == incident_id, Incident.status == OPEN)
        .values(phase=Phase.CLOSED.value, status=CLOSED, closed_at=now, next_update_due=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise ConflictError(f"Incident {incident_id} was closed by someone else meanwhile; reload it.")
    await log_event(
        session,
        incident_id=incident_id,
        kind="closed",
        actor=actor,
        clock=clock,
        text="Incident closed" + (f": {reason}" if reason else ""),
        details={"from": current},
    )
    await audit_change(
        session,
        actor=actor,
        action="incident.close",
        incident_id=incident_id,
        clock=clock,
        before={"phase": current, "status": OPEN},
        after={"phase": Phase.CLOSED.value, "status": CLOSED},
        reason=reason,
    )
    return await get_incident(session, incident_id)
