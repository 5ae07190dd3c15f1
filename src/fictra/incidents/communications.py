"""Stakeholder communications: templated updates per group, emergency meetings, overdue reminders.

Templates are Jinja2 text files in ``templates/`` (first line: the subject; the rest: the body). A
stakeholder group (technical_team, business_team, sovereign_participants, market_participants,
regulators) maps to receivers in ``config/incidents.yaml``; each receiver's channels come from
``receivers.yaml``. Messages go through :func:`fictra.notify.service.enqueue` in the caller's
transaction with idempotency keys, so a replayed call sends nothing twice. Each update moves the
incident's ``next_update_due`` on by the severity's cadence; :func:`remind_overdue` (run by the tick
task) tells the communications liaison once per missed deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.clock import Clock
from fictra.errors import UsageError
from fictra.incidents.config import GROUPS, IncidentsConfig
from fictra.incidents.events import audit_change, log_event
from fictra.incidents.models import Incident, IncidentEvent, IncidentMeeting
from fictra.incidents.outputs import mark_output
from fictra.incidents.queries import get_incident
from fictra.incidents.records import OPEN, clean_text, load_incident, require_open
from fictra.incidents.schemas import IncidentView, MeetingView
from fictra.notify.message import Message
from fictra.notify.service import enqueue

__all__ = [
    "TEMPLATES",
    "UpdateResult",
    "remind_overdue",
    "render",
    "schedule_meeting",
    "send_update",
]

TEMPLATES = ("initial", "status", "resolution", "market")
GROUP_TITLES = {
    "technical_team": "Technical team",
    "business_team": "Business team",
    "sovereign_participants": "Sovereign participants",
    "market_participants": "Market participants",
    "regulators": "Regulators",
}
CATEGORY_TITLES = {
    "smart_contract": "smart-contract",
    "security": "security",
    "market": "market",
    "infrastructure": "infrastructure",
    "oracle": "oracle",
    "compliance": "compliance",
}
_DIR = Path(__file__).parent / "templates"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


def _duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    if minutes % 60:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h"


_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_DIR),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # noqa: S701 - plain-text messages; HTML channels escape on their side
    keep_trailing_newline=False,
    trim_blocks=False,
)
_env.filters["when"] = _when
_env.filters["phase"] = lambda p: str(p).replace("_", "-")


def render(template: str, **context: Any) -> tuple[str, str]:
    """(subject, body) of ``template`` rendered with ``context``."""
    text = _env.get_template(f"{template}.txt.j2").render(**context)
    subject, _, body = text.strip().partition("\n")
    return subject.strip(), body.strip() + "\n"


def _context(view: IncidentView, *, link: str, now: datetime, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "incident": view,
        "category_title": CATEGORY_TITLES.get(view.category, view.category),
        "outputs": {o.key: o for o in view.outputs},
        "done": [o for o in view.outputs if o.status == "done" and o.key != "classification"],
        "missing": [o for o in view.outputs if o.phase == view.phase and o.status == "missing"],
        "next_update_due": view.next_update_due,
        "link": link,
        "now": now,
        "extra": {**dict.fromkeys(EXTRA_FIELDS, ""), **extra},
    }


def _link(config: IncidentsConfig, console_url: str | None, incident_id: int) -> str:
    base = (console_url or "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/incidents/{incident_id}"


@dataclass
class UpdateResult:
    """What one update sent: per group, the (receiver, channel) pairs and the outbox ids enqueued
    (None where the idempotency key had been used: a replay)."""

    incident_id: int
    template: str
    subject: str
    deliveries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def notification_ids(self) -> list[int]:
        return [d["notification_id"] for d in self.deliveries if d["notification_id"] is not None]


def _check_groups(groups: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(groups))
    if not wanted:
        raise UsageError(f"Name at least one stakeholder group: {', '.join(GROUPS)}.")
    bad = [g for g in wanted if g not in GROUPS]
    if bad:
        raise UsageError(f"Unknown stakeholder group '{bad[0]}'; expected one of: {', '.join(GROUPS)}.")
    return wanted


EXTRA_FIELDS = ("message", "impact", "trading")


def _clean_extra(extra: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (extra or {}).items():
        if key not in EXTRA_FIELDS:
            raise UsageError(f"Update field '{key}' is not one of: {', '.join(EXTRA_FIELDS)}.")
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise UsageError(f"Update field '{key}' must be text or a number.")
        out[key] = clean_text(str(value), what=f"update field '{key}'", limit=4000)
    return out


async def send_update(
    session: AsyncSession,
    *,
    incident_id: int,
    groups: Sequence[str],
    template: str,
    actor: object,
    clock: Clock,
    extra: dict[str, Any] | None = None,
    config: IncidentsConfig | None = None,
    console_url: str | None = None,
    dedupe: str | None = None,
) -> UpdateResult:
    """Render ``template`` for each stakeholder group and enqueue it to the group's receivers.

    ``extra`` fills the template's free fields (message, impact, trading); ``dedupe`` replaces the
    default idempotency token (the update's timeline event id), e.g. "declared" for the automatic
    initial notification so a replay sends nothing. The first update satisfies initial_notification,
    a later status or market update ongoing_communication; every update resets the cadence clock.
    """
    if template not in TEMPLATES:
        raise UsageError(f"Template '{template}' is not one of: {', '.join(TEMPLATES)}.")
    wanted = _check_groups(groups)
    fields = _clean_extra(extra)
    cfg = config or IncidentsConfig()
    incident = await load_incident(session, incident_id)
    if template != "resolution":
        require_open(incident, "sent updates other than the resolution")
    now = clock.now()
    first = incident.last_update_at is None
    if incident.status == OPEN:
        incident.last_update_at = now
        incident.next_update_due = now + cfg.cadence_of(incident.severity)
        incident.reminded_for = None
        incident.updated_at = now
    await session.flush()
    view = await get_incident(session, incident_id)
    link = _link(cfg, console_url, incident_id)
    context = _context(view, link=link, now=now, extra=fields)
    # the event first: its id names this update (idempotency keys, the outputs it satisfies)
    event = IncidentEvent(
        incident_id=incident_id, at=now, kind="status_update", actor=_actor(actor), text="", details={}
    )
    session.add(event)
    await session.flush()
    token = dedupe or str(event.id)
    result = UpdateResult(incident_id=incident_id, template=template, subject="")
    for group in wanted:
        subject, body = render(template, group_title=GROUP_TITLES[group], **context)
        result.subject = subject
        message = Message(
            subject=subject[:500],
            body=body,
            severity=incident.severity,
            link=link,
            fields={
                "incident": str(incident_id),
                "phase": view.phase,
                "category": view.category,
                "group": group,
            },
            status="resolved" if template == "resolution" else "firing",
            group_key=f"incident:{incident_id}",
        )
        for receiver in cfg.groups.get(group, []):
            for channel in cfg.channels_of(receiver):
                key = f"incident:{incident_id}:{template}:{token}:{group}:{receiver}:{channel}"
                nid = await enqueue(
                    session,
                    receiver=receiver,
                    channel=channel,
                    message=message,
                    idempotency_key=key,
                    clock=clock,
                )
                result.deliveries.append(
                    {"group": group, "receiver": receiver, "channel": channel, "notification_id": nid}
                )
    receivers = sorted({d["receiver"] for d in result.deliveries})
    event.text = f"{template.capitalize()} update to {', '.join(wanted)}: {result.subject}"
    event.ref = f"update:{event.id}"
    event.details = {
        "template": template,
        "groups": wanted,
        "receivers": receivers,
        "subject": result.subject,
        "notification_ids": result.notification_ids,
        **({"fields": fields} if fields else {}),
    }
    if not result.deliveries:
        event.text += " (no receivers configured for these groups)"
    await session.flush()
    if first:
        await mark_output(
            session,
            incident=incident,
            key="initial_notification",
            text=f"{template} update to {', '.join(wanted)} at {_when(now)}",
            source=f"update:{event.id}",
            actor=actor,
            clock=clock,
        )
    elif template in ("status", "market"):
        await mark_output(
            session,
            incident=incident,
            key="ongoing_communication",
            text=f"status updates every {_duration(cfg.cadence_of(incident.severity))}; latest to "
            f"{', '.join(wanted)} at {_when(now)}",
            source=f"update:{event.id}",
            actor=actor,
            clock=clock,
        )
    await audit_change(
        session,
        actor=actor,
        action="incident.update",
        incident_id=incident_id,
        clock=clock,
        after={
            "template": template,
            "groups": wanted,
            "subject": result.subject,
            "deliveries": len(result.deliveries),
        },
    )
    return result


async def schedule_meeting(
    session: AsyncSession,
    *,
    incident_id: int,
    starts_at: datetime,
    bridge: str,
    attendees: Sequence[str],
    actor: object,
    clock: Clock,
    agenda: str | None = None,
    config: IncidentsConfig | None = None,
    console_url: str | None = None,
) -> MeetingView:
    """An emergency meeting (market events): time, bridge (URL or dial-in) and attendees — people of
    oncall.yaml or stakeholder groups — each notified through their receiver(s)."""
    cfg = config or IncidentsConfig()
    where = clean_text(bridge, what="meeting bridge (URL or dial-in)", limit=500)
    about = clean_text(agenda, what="meeting agenda", limit=4000) if agenda and agenda.strip() else None
    if starts_at.tzinfo is None:
        raise UsageError(f"Meeting time '{starts_at.isoformat()}' has no time zone; add Z or +00:00.")
    names = list(dict.fromkeys(a.strip() for a in attendees if a.strip()))
    if not names:
        raise UsageError("Name at least one attendee (a person of oncall.yaml or a stakeholder group).")
    targets: list[tuple[str, list[str]]] = []
    for name in names:
        if name in GROUPS:
            targets.append((name, cfg.groups.get(name, [])))
            continue
        receiver = cfg.receiver_of_person(name)
        if receiver is None:
            known = ", ".join([*cfg.people, *GROUPS])
            raise UsageError(
                f"Unknown attendee '{name}'; expected a person of oncall.yaml or a group: {known}."
            )
        targets.append((name, [receiver]))
    incident = await load_incident(session, incident_id)
    require_open(incident, "given a meeting")
    now = clock.now()
    meeting = IncidentMeeting(
        incident_id=incident_id,
        starts_at=starts_at,
        bridge=where,
        attendees=names,
        agenda=about,
        created_by=_actor(actor),
        created_at=now,
    )
    session.add(meeting)
    await session.flush()
    view = await get_incident(session, incident_id)
    link = _link(cfg, console_url, incident_id)
    sent = 0
    for name, receivers in targets:
        title = GROUP_TITLES.get(name, name)
        subject, body = render("meeting", incident=view, meeting=meeting, attendee=title, link=link)
        message = Message(
            subject=subject[:500],
            body=body,
            severity=incident.severity,
            link=link,
            fields={"incident": str(incident_id), "meeting": str(meeting.id), "bridge": where},
            group_key=f"incident:{incident_id}:meeting:{meeting.id}",
        )
        for receiver in receivers:
            for channel in cfg.channels_of(receiver):
                key = f"incident:{incident_id}:meeting:{meeting.id}:{name}:{receiver}:{channel}"
                if await enqueue(
                    session,
                    receiver=receiver,
                    channel=channel,
                    message=message,
                    idempotency_key=key,
                    clock=clock,
                ):
                    sent += 1
    await log_event(
        session,
        incident_id=incident_id,
        kind="meeting",
        actor=actor,
        clock=clock,
        text=f"Emergency meeting at {_when(starts_at)} on {where} with {', '.join(names)}",
        ref=f"meeting:{meeting.id}",
        details={"meeting_id": meeting.id, "attendees": names, "bridge": where, "notifications": sent},
    )
    await audit_change(
        session,
        actor=actor,
        action="incident.meeting",
        incident_id=incident_id,
        clock=clock,
        after={"meeting_id": meeting.id, "starts_at": starts_at, "bridge": where, "attendees": names},
    )
    return MeetingView.model_validate(meeting)


def _actor(actor: object) -> str:
    from fictra.audit.service import actor_name

    return actor_name(actor)


async def remind_overdue(
    session: AsyncSession, *, config: IncidentsConfig, clock: Clock, console_url: str | None = None
) -> list[int]:
    """Remind the communications liaison (or ``reminder_receiver`` when none is set or reachable) of
    every open incident whose next update is overdue; once per missed deadline. Returns the incidents."""
    now = clock.now()
    rows = (
        (
            await session.execute(
                select(Incident)
                .where(
                    Incident.status == OPEN,
                    Incident.next_update_due.is_not(None),
                    Incident.next_update_due <= now,
                    or_(Incident.reminded_for.is_(None), Incident.reminded_for != Incident.next_update_due),
                )
                .order_by(Incident.id)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    reminded: list[int] = []
    for incident in rows:
        due = incident.next_update_due
        if due is None:
            continue
        receiver = (
            incident.liaison and config.receiver_of_person(incident.liaison)
        ) or config.reminder_receiver
        view = await get_incident(session, incident.id)
        link = _link(config, console_url, incident.id)
        subject, body = render(
            "reminder",
            incident=view,
            liaison=incident.liaison,
            cadence=_duration(config.cadence_of(incident.severity)),
            link=link,
        )
        message = Message(
            subject=subject[:500],
            body=body,
            severity=incident.severity,
            link=link,
            fields={"incident": str(incident.id), "due": due.isoformat()},
            group_key=f"incident:{incident.id}:reminder",
        )
        for channel in config.channels_of(receiver):
            await enqueue(
                session,
                receiver=receiver,
                channel=channel,
                message=message,
                idempotency_key=f"incident:{incident.id}:reminder:{due.isoformat()}:{receiver}:{channel}",
                clock=clock,
            )
        incident.reminded_for = due
        await session.flush()
        late = int((now - due).total_seconds() // 60)
        await log_event(
            session,
            incident_id=incident.id,
            kind="reminder",
            actor="system",
            clock=clock,
            text=f"Status update overdue since {_when(due)} ({late} min); reminded "
            f"{incident.liaison or 'the communications receiver'} via {receiver}",
            details={"due": due.isoformat(), "receiver": receiver, "liaison": incident.liaison},
        )
        await audit_change(
            session,
            actor="system",
            action="incident.reminder",
            incident_id=incident.id,
            clock=clock,
            after={"due": due, "receiver": receiver},
        )
        reminded.append(incident.id)
    return reminded
