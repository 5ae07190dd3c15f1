"""Incident roles: the commander, the scribe, the communications liaison and the responders.

:func:`assign_role` sets or removes one by hand (audited; team activation is recorded once a commander
and a responder are in place); :func:`fill_from_oncall` gives the roles of an auto-declared incident to
whoever is on call on the configured schedules.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.clock import Clock
from fictra.errors import ConflictError, UsageError
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.events import SYSTEM, audit_change, log_event, snapshot
from fictra.incidents.outputs import mark_output
from fictra.incidents.queries import get_incident
from fictra.incidents.records import check_choice, check_user, load_incident, require_open
from fictra.incidents.schemas import IncidentView

__all__ = ["ROLES", "assign_role", "fill_from_oncall"]

ROLES = ("commander", "scribe", "liaison", "responder")
_ROLE_TITLES = {"commander": "incident commander", "scribe": "scribe", "liaison": "communications liaison"}


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
    check_choice(role, ROLES, "Incident role")
    incident = await load_incident(session, incident_id)
    require_open(incident, "changed")
    name = username.strip()
    if not name:
        raise UsageError("The user name is empty; name the user who takes the role.")
    before = snapshot(incident)
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
        after=snapshot(incident),
    )
    return await get_incident(session, incident_id)


async def fill_from_oncall(
    session: AsyncSession, *, incident_id: int, config: IncidentsConfig, clock: Clock
) -> None:
    """Whoever is on call on the configured schedules takes the incident roles (users only; anyone
    else is named on the timeline for a person to assign by hand)."""
    from fictra.auth.models import User
    from fictra.response.models import OncallOverride
    from fictra.response.oncall import OverrideSpan, on_call

    wanted = config.auto_declare.roles
    oncall = config.oncall
    if not wanted or oncall is None:
        return
    now = clock.now()
    rows = await session.execute(
        select(OncallOverride).where(OncallOverride.starts_at <= now, OncallOverride.ends_at > now)
    )
    spans = [OverrideSpan(o.schedule, o.person, o.starts_at, o.ends_at, o.source) for o in rows.scalars()]
    schedules = {s.name: s for s in oncall.schedules}
    users = {
        u.username for u in (await session.execute(select(User).where(User.disabled.is_(False)))).scalars()
    }
    for role, name in wanted.items():
        schedule = schedules.get(name)
        people = [shift.person for shift in on_call(schedule, now, spans)] if schedule else []
        usable = [p for p in people if p in users]
        if not usable:
            await log_event(
                session,
                incident_id=incident_id,
                kind="role",
                actor=SYSTEM,
                clock=clock,
                text=f"No {role} from on-call schedule '{name}': on call now "
                f"{', '.join(people) or 'nobody'}, none of them a user; assign the role by hand",
                details={"role": role, "schedule": name, "on_call": people},
            )
            continue
        for person in usable if role == "responder" else usable[:1]:
            await assign_role(
                session, incident_id=incident_id, role=role, username=person, actor=SYSTEM, clock=clock
            )
