"""The incident state machine: declare, link alerts, record outputs, assign roles, notes, advance, close.

Every function works in the caller's transaction and never commits: the change, its timeline entry
(``incident_events``) and its audit entry commit together or not at all. Phase changes are conditional
UPDATEs (``... WHERE phase = :current AND status = 'open'``) so two people advancing at once cannot both
win. Refusals are :class:`~fictra.errors.ConflictError` naming each missing output and how to provide it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert
from fictra.audit.service import actor_name, record
from fictra.clock import Clock
from fictra.errors import ConflictError, NotFoundError, UsageError
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.models import (
    Incident,
    IncidentAlert,
    IncidentEvent,
    IncidentMeeting,
    IncidentOutput,
    IncidentTask,
)
from fictra.incidents.phases import (
    CATEGORIES,
    OUTPUTS,
    PHASES,
    SEVERITIES,
    OutputSpec,
    Phase,
    how_to,
    next_phase,
    output_spec,
    outputs_of,
)
from fictra.incidents.schemas import IncidentSummary, IncidentView, MeetingView, OutputView, TaskView

__all__ = [
    "ROLES",
    "add_note",
    "advance",
    "assign_role",
    "audit_change",
    "check_user",
    "clean_text",
    "close",
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

OPEN, CLOSED = "open", "closed"
ROLES = ("commander", "scribe", "liaison", "responder")
TEXT_MAX = 20_000
TITLE_MAX = 300


# -- helpers ----------------------------------------------------------------------------------------


def clean_text(value: str | None, *, what: str, limit: int = TEXT_MAX) -> str:
    """Stripped text for the record; UsageError naming ``what`` when empty, too long or with NUL."""
    text = (value or "").strip()
    if not text:
        raise UsageError(f"The {what} is empty; write it out (it goes on the incident's record).")
    if len(text) > limit:
        raise UsageError(f"The {what} has {len(text)} characters; at most {limit} are allowed.")
    if "\x00" in text:
        raise UsageError(f"The {what} contains a NUL character; remove it.")
    return text


def _check_choice(value: str, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise UsageError(f"{what} '{value}' is not one of: {', '.join(choices)}.")
    return value


async def load_incident(session: AsyncSession, incident_id: int) -> Incident:
    """The incident row, fresh from the database; NotFoundError saying how to list incidents."""
    incident = await session.get(Incident, incident_id, populate_existing=True)
    if incident is None:
        raise NotFoundError(
            f"No incident with id {incident_id}. List incidents with `fictra incidents list` "
            "or GET /api/v1/incidents."
        )
    return incident


def require_open(incident: Incident, verb: str) -> None:
    """ConflictError (naming when it closed) unless the incident is open; ``verb`` completes the sentence."""
    if incident.status != OPEN:
        when = incident.closed_at.isoformat() if incident.closed_at else "?"
        raise ConflictError(
            f"Incident {incident.id} was closed at {when}; a closed incident cannot be {verb}."
        )


def _state(incident: Incident) -> dict[str, Any]:
    return {
        "title": incident.title,
        "severity": incident.severity,
        "category": incident.category,
        "phase": incident.phase,
        "status": incident.status,
        "commander": incident.commander,
        "scribe": incident.scribe,
        "liaison": incident.liaison,
        "responders": list(incident.responders or []),
    }


async def log_event(
    session: AsyncSession,
    *,
    incident_id: int,
    kind: str,
    actor: object,
    text: str,
    clock: Clock,
    ref: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Put one entry on the incident's own timeline (the other incident modules call this too)."""
    await session.execute(
        insert(IncidentEvent),
        [
            {
                "incident_id": incident_id,
                "at": at or clock.now(),
                "kind": kind,
                "actor": actor_name(actor),
                "text": text,
                "ref": ref,
                "details": details or {},
            }
        ],
    )


async def audit_change(
    session: AsyncSession,
    *,
    actor: object,
    action: str,
    incident_id: int,
    clock: Clock,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """The audit entry of an incident change (target ``incident:<id>``), in the caller's transaction."""
    await record(
        session,
        actor=actor,
        action=action,
        target=f"incident:{incident_id}",
        before=before,
        after=after,
        reason=reason,
        clock=clock,
    )


async def _check_alerts(session: AsyncSession, alert_ids: Iterable[int]) -> list[int]:
    wanted = sorted(set(alert_ids))
    if not wanted:
        return []
    found = set((await session.execute(select(Alert.id).where(Alert.id.in_(wanted)))).scalars())
    missing = [str(a) for a in wanted if a not in found]
    if missing:
        raise NotFoundError(f"No alert with id {', '.join(missing)}. List alerts with `fictra alerts list`.")
    return wanted


async def check_user(session: AsyncSession, username: str) -> str:
    """The name of an existing, enabled user (roles and task owners are users)."""
    from fictra.auth.models import User

    name = username.strip()
    user = (await session.execute(select(User).where(User.username == name))).scalar_one_or_none()
    if user is None:
        raise NotFoundError(f"No user '{name}'. Add them with `fictra users add {name} --role ...`.")
    if user.disabled:
        raise ConflictError(f"User '{name}' is disabled; assign an active user.")
    return name


# -- writes -----------------------------------------------------------------------------------------


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
    _check_choice(severity, SEVERITIES, "Severity")
    _check_choice(category, CATEGORIES, "Category")
    body = clean_text(summary, what="incident summary") if summary and summary.strip() else None
    alerts = await _check_alerts(session, alert_ids)
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
    await _put_output(
        session,
        incident=incident,
        spec=_spec("classification"),
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
        after={**_state(incident), "alert_ids": alerts, "source": source},
        reason=body,
    )
    return await get_incident(session, iid)


async def link_alerts(
    session: AsyncSession, *, incident_id: int, alert_ids: Iterable[int], actor: object, clock: Clock
) -> IncidentView:
    """Attach more alerts to an open incident (already linked ones are ignored)."""
    incident = await load_incident(session, incident_id)
    require_open(incident, "linked to alerts")
    wanted = await _check_alerts(session, alert_ids)
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


def _spec(key: str) -> OutputSpec:
    spec = output_spec(key)
    if spec is None:
        keys = ", ".join(o.key for o in OUTPUTS)
        raise UsageError(f"Output '{key}' is not an incident output; expected one of: {keys}.")
    return spec


async def _put_output(
    session: AsyncSession,
    *,
    incident: Incident,
    spec: OutputSpec,
    status: str,
    text: str,
    source: str,
    actor: object,
    clock: Clock,
) -> dict[str, Any] | None:
    """Insert or replace the output row; returns the previous row's state (None when new)."""
    now = clock.now()
    row = (
        await session.execute(
            select(IncidentOutput).where(
                IncidentOutput.incident_id == incident.id, IncidentOutput.key == spec.key
            )
        )
    ).scalar_one_or_none()
    before = None
    if row is None:
        session.add(
            IncidentOutput(
                incident_id=incident.id,
                phase=spec.phase.value,
                key=spec.key,
                status=status,
                text=text,
                source=source,
                recorded_by=actor_name(actor),
                recorded_at=now,
            )
        )
    else:
        before = {"status": row.status, "text": row.text, "source": row.source}
        row.status, row.text, row.source = status, text, source
        row.recorded_by, row.recorded_at = actor_name(actor), now
    await session.flush()
    verb = "recorded as not required" if status == "not_required" else "recorded"
    await log_event(
        session,
        incident_id=incident.id,
        kind="output",
        actor=actor,
        clock=clock,
        text=f"{spec.title} {verb}: {text}",
        ref=source if source.startswith(("action:", "update:", "evidence:")) else None,
        details={"key": spec.key, "phase": spec.phase.value, "status": status, "source": source},
    )
    return before


async def record_output(
    session: AsyncSession,
    *,
    incident_id: int,
    key: str,
    text: str,
    actor: object,
    clock: Clock,
    source: str = "manual",
    not_required: bool = False,
) -> IncidentView:
    """Record (or replace) a phase output. Outputs of any phase may be recorded while the incident is
    open (containment often happens during detection). ``source`` names what produced it
    ("action:12" for a verified emergency action); ``not_required`` is allowed where the runbook makes
    the step conditional (escalation), and ``text`` is then the reason."""
    spec = _spec(key)
    body = clean_text(text, what=f"'{key}' output" + (" reason" if not_required else ""))
    if spec.derived:
        raise ConflictError(f"Output '{key}' cannot be typed in: {how_to(spec)}.")
    if not_required and not spec.may_skip:
        raise ConflictError(
            f"Output '{key}' ({spec.title}) is always required; only "
            + ", ".join(o.key for o in OUTPUTS if o.may_skip)
            + " may be recorded as not required."
        )
    if not source or len(source) > 100:
        raise UsageError(f"Output source '{source[:40]}' must be 1-100 characters (e.g. 'action:12').")
    incident = await load_incident(session, incident_id)
    require_open(incident, "changed")
    status = "not_required" if not_required else "done"
    before = await _put_output(
        session,
        incident=incident,
        spec=spec,
        status=status,
        text=body,
        source=source,
        actor=actor,
        clock=clock,
    )
    incident.updated_at = clock.now()
    await audit_change(
        session,
        actor=actor,
        action="incident.output",
        incident_id=incident_id,
        clock=clock,
        before={key: before} if before else None,
        after={key: {"status": status, "text": body, "source": source}},
    )
    return await get_incident(session, incident_id)


async def mark_output(
    session: AsyncSession,
    *,
    incident: Incident,
    key: str,
    text: str,
    source: str,
    actor: object,
    clock: Clock,
) -> bool:
    """Record an output satisfied by something that happened (roles filled, first update sent, report
    generated) unless it is already recorded; True when recorded now. Audited by the caller's action."""
    exists = (
        await session.execute(
            select(IncidentOutput.id).where(
                IncidentOutput.incident_id == incident.id, IncidentOutput.key == key
            )
        )
    ).first()
    if exists is not None or incident.status != OPEN:
        return False
    await _put_output(
        session,
        incident=incident,
        spec=_spec(key),
        status="done",
        text=text,
        source=source,
        actor=actor,
        clock=clock,
    )
    return True


async def assign_role(
    session: AsyncSession,
    *,
    incident_id: int,
    role: str,
    username: str,
    actor: object,
    clock: Clock,
    remove: bool = False,
) -> IncidentView:
    """Set the commander, scribe or communications liaison, or add/remove a responder. Team activation
    is recorded once a commander and at least one responder are assigned."""
    _check_choice(role, ROLES, "Incident role")
    incident = await load_incident(session, incident_id)
    require_open(incident, "changed")
    name = username.strip()
    if not name:
        raise UsageError("The user name is empty; name the user who takes the role.")
    before = _state(incident)
    if remove:
        if role == "responder":
            if name not in (incident.responders or []):
                raise ConflictError(f"'{name}' is not a responder on incident {incident_id}.")
            incident.responders = [r for r in incident.responders if r != name]
        else:
            if getattr(incident, role) != name:
                raise ConflictError(f"'{name}' is not the {role} of incident {incident_id}.")
            setattr(incident, role, None)
        text = f"{name} removed as {role}"
    else:
        name = await check_user(session, name)
        if role == "responder":
            if name in (incident.responders or []):
                raise ConflictError(f"'{name}' is already a responder on incident {incident_id}.")
            incident.responders = [*(incident.responders or []), name]
        else:
            setattr(incident, role, name)
        text = f"{name} is {'a responder' if role == 'responder' else 'the ' + _ROLE_TITLES[role]}"
    incident.updated_at = clock.now()
    await session.flush()
    await log_event(
        session,
        incident_id=incident_id,
        kind="role",
        actor=actor,
        clock=clock,
        text=text,
        details={"role": role, "user": name, "removed": remove},
    )
    if incident.commander and incident.responders:
        team = ", ".join(incident.responders)
        await mark_output(
            session,
            incident=incident,
            key="team_activation",
            text=f"Commander {incident.commander}; responders {team}",
            source="roles",
            actor=actor,
            clock=clock,
        )
    await audit_change(
        session,
        actor=actor,
        action="incident.role",
        incident_id=incident_id,
        clock=clock,
        before=before,
        after=_state(incident),
    )
    return await get_incident(session, incident_id)


_ROLE_TITLES = {"commander": "incident commander", "scribe": "scribe", "liaison": "communications liaison"}


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


def _refusal(incident_id: int, verb: str, missing: list[OutputView]) -> ConflictError:
    lines = "; ".join(f"{o.key} ({o.title}): {o.how}" for o in missing)
    return ConflictError(
        f"Incident {incident_id} cannot {verb}: {len(missing)} required output(s) missing — {lines}."
    )


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
    target = _check_choice(to_phase, [p.value for p in PHASES], "Phase")
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
        raise _refusal(incident_id, f"leave phase {current}", missing)
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
        _check_choice(severity, SEVERITIES, "Severity")
    if category is not None:
        _check_choice(category, CATEGORIES, "Category")
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
    await _put_output(
        session,
        incident=incident,
        spec=_spec("classification"),
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
        raise _refusal(incident_id, "close", missing)
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


# -- reads ------------------------------------------------------------------------------------------


def _outputs(rows: Sequence[IncidentOutput], tasks: Sequence[IncidentTask]) -> list[OutputView]:
    by_key = {r.key: r for r in rows}
    out: list[OutputView] = []
    for spec in OUTPUTS:
        row = by_key.get(spec.key)
        base = {"key": spec.key, "phase": spec.phase.value, "title": spec.title, "how": how_to(spec)}
        if spec.key == "corrective_actions":
            if tasks:
                listing = "; ".join(
                    f"#{t.id} {t.title} (owner {t.owner}, due {t.due_at.date()})" for t in tasks
                )
                first = min(tasks, key=lambda t: t.created_at)
                out.append(
                    OutputView(
                        **base,
                        status="done",
                        text=listing,
                        source="tasks",
                        recorded_by=first.created_by,
                        recorded_at=first.created_at,
                    )
                )
            else:
                out.append(OutputView(**base, status="missing"))
        elif row is None:
            out.append(OutputView(**base, status="missing"))
        else:
            out.append(
                OutputView(
                    **base,
                    status=row.status,
                    text=row.text,
                    source=row.source,
                    recorded_by=row.recorded_by,
                    recorded_at=row.recorded_at,
                )
            )
    return out


async def get_incident(session: AsyncSession, incident_id: int) -> IncidentView:
    """The incident with its outputs (every phase; ``missing`` lists the current phase's gaps), roles,
    alerts, tasks and meetings. The timeline is :func:`fictra.incidents.timeline.timeline`."""
    incident = await load_incident(session, incident_id)
    alert_ids = list(
        (
            await session.execute(
                select(IncidentAlert.alert_id)
                .where(IncidentAlert.incident_id == incident_id)
                .order_by(IncidentAlert.alert_id)
            )
        ).scalars()
    )
    rows = (
        (await session.execute(select(IncidentOutput).where(IncidentOutput.incident_id == incident_id)))
        .scalars()
        .all()
    )
    tasks = (
        (
            await session.execute(
                select(IncidentTask).where(IncidentTask.incident_id == incident_id).order_by(IncidentTask.id)
            )
        )
        .scalars()
        .all()
    )
    meetings = (
        (
            await session.execute(
                select(IncidentMeeting)
                .where(IncidentMeeting.incident_id == incident_id)
                .order_by(IncidentMeeting.id)
            )
        )
        .scalars()
        .all()
    )
    outputs = _outputs(rows, tasks)
    current = incident.phase
    missing = [o.key for o in outputs if o.phase == current and o.status == "missing"]
    if current == Phase.CLOSED.value:
        missing = []
    return IncidentView(
        id=incident.id,
        title=incident.title,
        summary=incident.summary,
        severity=incident.severity,
        category=incident.category,
        phase=incident.phase,
        status=incident.status,
        source=incident.source,
        declared_at=incident.declared_at,
        declared_by=incident.declared_by,
        closed_at=incident.closed_at,
        commander=incident.commander,
        scribe=incident.scribe,
        liaison=incident.liaison,
        responders=list(incident.responders or []),
        last_update_at=incident.last_update_at,
        next_update_due=incident.next_update_due,
        updated_at=incident.updated_at,
        alert_ids=alert_ids,
        outputs=outputs,
        missing=missing,
        tasks=[TaskView.model_validate(t) for t in tasks],
        meetings=[MeetingView.model_validate(m) for m in meetings],
    )


async def list_incidents(
    session: AsyncSession,
    *,
    status: str | None = None,
    severity: str | None = None,
    category: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[IncidentSummary]:
    """Incidents, newest first; ``status`` open/closed."""
    if limit < 1:
        raise UsageError(f"limit {limit} must be at least 1.")
    stmt = select(Incident)
    if status is not None:
        stmt = stmt.where(Incident.status == _check_choice(status, (OPEN, CLOSED), "Status"))
    if severity is not None:
        stmt = stmt.where(Incident.severity == _check_choice(severity.upper(), SEVERITIES, "Severity"))
    if category is not None:
        stmt = stmt.where(Incident.category == _check_choice(category, CATEGORIES, "Category"))
    stmt = (
        stmt.order_by(Incident.declared_at.desc(), Incident.id.desc())
        .limit(min(limit, 1000))
        .offset(max(offset, 0))
    )
    rows = (await session.execute(stmt)).scalars().all()
    return [IncidentSummary.model_validate(r) for r in rows]


async def incident_for_alert(session: AsyncSession, alert_id: int) -> int | None:
    """The incident an alert belongs to: the newest open one linking it, else the newest closed one;
    None when the alert is in no incident."""
    stmt = (
        select(Incident.id)
        .join(IncidentAlert, IncidentAlert.incident_id == Incident.id)
        .where(IncidentAlert.alert_id == alert_id)
        .order_by((Incident.status == OPEN).desc(), Incident.id.desc())
        .limit(1)
    )
    found = (await session.execute(stmt)).scalar_one_or_none()
    return None if found is None else int(found)


async def count_open(session: AsyncSession) -> int:
    return int(
        (
            await session.execute(select(func.count()).select_from(Incident).where(Incident.status == OPEN))
        ).scalar_one()
    )


def phase_outputs(phase: str) -> list[str]:
    return [o.key for o in outputs_of(phase)]
