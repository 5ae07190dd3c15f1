"""Read models: one incident in detail, incident lists, the incident of an alert, open counts.

Nothing here writes. The merged timeline (incident, alert and action events) is
:func:`fictra.incidents.timeline.timeline`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.errors import UsageError
from fictra.incidents.models import Incident, IncidentAlert, IncidentMeeting, IncidentOutput, IncidentTask
from fictra.incidents.phases import CATEGORIES, OUTPUTS, SEVERITIES, Phase, how_to, outputs_of
from fictra.incidents.records import CLOSED, OPEN, check_choice, load_incident
from fictra.incidents.schemas import IncidentSummary, IncidentView, MeetingView, OutputView, TaskView

__all__ = [
    "count_open",
    "get_incident",
    "incident_for_alert",
    "list_incidents",
    "output_views",
    "phase_outputs",
]


def output_views(rows: Sequence[IncidentOutput], tasks: Sequence[IncidentTask]) -> list[OutputView]:
    """Every output of every phase, in runbook order: recorded ones with who and when, the rest
    ``missing`` with how to provide them. Corrective actions are the incident's tasks."""
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
    outputs = output_views(rows, tasks)
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
        stmt = stmt.where(Incident.status == check_choice(status, (OPEN, CLOSED), "Status"))
    if severity is not None:
        stmt = stmt.where(Incident.severity == check_choice(severity.upper(), SEVERITIES, "Severity"))
    if category is not None:
        stmt = stmt.where(Incident.category == check_choice(category, CATEGORIES, "Category"))
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
