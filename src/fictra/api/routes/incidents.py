"""The incidents API (prefix /api/v1/incidents): the incident itself. Tasks, communications, evidence
and the report are :mod:`fictra.api.routes.incidents_records` (same prefix).

GET    /incidents?status=&severity=&category=    list, newest first                    incidents.read
POST   /incidents                                 declare {title,severity,category,...}  incidents.declare
GET    /incidents/{id}                            outputs, roles, tasks, timeline        incidents.read
GET    /incidents/{id}/timeline                   the merged timeline                    incidents.read
POST   /incidents/{id}/advance                    {to_phase, note}                       incidents.manage
POST   /incidents/{id}/classification             {severity, category, reason}           incidents.manage
POST   /incidents/{id}/outputs                    {key, text, not_required}              incidents.manage
POST   /incidents/{id}/roles                      {role, username, remove}               incidents.manage
POST   /incidents/{id}/notes                      {text}                                 incidents.manage
POST   /incidents/{id}/alerts                     {alert_ids}                            incidents.manage
POST   /incidents/{id}/close                      {note}                                 incidents.manage
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from fictra.api.deps import DbSession, guarded
from fictra.auth.deps import Actor, current_actor
from fictra.emergency.ledger import ActionsLedger
from fictra.incidents import service
from fictra.incidents.flows import IncidentsContext
from fictra.incidents.outputs import record_output
from fictra.incidents.queries import get_incident, list_incidents
from fictra.incidents.roles import assign_role
from fictra.incidents.schemas import IncidentSummary, IncidentView
from fictra.incidents.timeline import timeline

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
CurrentActor = Annotated[Actor, Depends(current_actor)]
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="Incident id.")]
AlertId = Annotated[int, Field(ge=1, le=MAX_ID)]


def incidents_context(request: Request) -> IncidentsContext:
    """The running platform's incidents context (``Platform.incidents``), or one built from the app's
    config (cached; with the platform's RPC pool when there is one, else on-demand evidence needs the
    platform)."""
    app_ctx = request.app.state.context
    platform = app_ctx.platform
    if platform is not None and platform.incidents is not None:
        found: IncidentsContext = platform.incidents
        return found
    cached = getattr(request.app.state, "incidents_context", None)
    if isinstance(cached, IncidentsContext):
        return cached
    ctx = IncidentsContext(config=app_ctx.config_set.incidents, clock=app_ctx.clock, actions=ActionsLedger())
    if platform is not None:
        ctx.pool, ctx.manifest = platform.pool, platform.manifest
    request.app.state.incidents_context = ctx
    return ctx


Incidents = Annotated[IncidentsContext, Depends(incidents_context)]


class TimelineEntry(BaseModel):
    at: datetime
    kind: str
    actor: str
    text: str
    ref: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)


class IncidentDetail(IncidentView):
    timeline: list[TimelineEntry]


class DeclareBody(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    severity: Literal["P0", "P1", "P2", "P3"]
    category: Literal["smart_contract", "security", "market", "infrastructure", "oracle", "compliance"]
    alert_ids: list[AlertId] = Field(default_factory=list, max_length=100)
    summary: str | None = Field(default=None, max_length=20_000)


class AdvanceBody(BaseModel):
    to_phase: Literal["response", "recovery", "post_incident", "closed"]
    note: str | None = Field(default=None, max_length=4000)


class ClassifyBody(BaseModel):
    severity: Literal["P0", "P1", "P2", "P3"] | None = None
    category: (
        Literal["smart_contract", "security", "market", "infrastructure", "oracle", "compliance"] | None
    ) = None
    reason: str | None = Field(default=None, max_length=4000)


class OutputBody(BaseModel):
    key: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=20_000)
    not_required: bool = False


class RoleBody(BaseModel):
    role: Literal["commander", "scribe", "liaison", "responder"]
    username: str = Field(min_length=1, max_length=64)
    remove: bool = False


class NoteBody(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)


class AlertsBody(BaseModel):
    alert_ids: list[AlertId] = Field(min_length=1, max_length=100)


class CloseBody(BaseModel):
    note: str | None = Field(default=None, max_length=4000)


async def _detail(session: DbSession, ictx: IncidentsContext, incident_id: int) -> IncidentDetail:
    view = await get_incident(session, incident_id)
    items = await timeline(session, incident_id, actions=ictx.actions)
    return IncidentDetail(
        **view.model_dump(),
        timeline=[
            TimelineEntry(at=i.at, kind=i.kind, actor=i.actor, text=i.text, ref=i.ref, details=i.details)
            for i in items
        ],
    )


@router.get("", summary="Incidents, newest first", **guarded("incidents.read"))
async def incidents_list(
    session: DbSession,
    status: Annotated[Literal["open", "closed"] | None, Query()] = None,
    severity: Annotated[Literal["P0", "P1", "P2", "P3"] | None, Query()] = None,
    category: Annotated[
        Literal["smart_contract", "security", "market", "infrastructure", "oracle", "compliance"] | None,
        Query(),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[IncidentSummary]:
    return await list_incidents(session, status=status, severity=severity, category=category, limit=limit)


@router.post("", summary="Declare an incident", status_code=201, **guarded("incidents.declare"))
async def incidents_declare(
    session: DbSession, ictx: Incidents, actor: CurrentActor, body: DeclareBody
) -> IncidentView:
    return await service.declare(
        session,
        title=body.title,
        severity=body.severity,
        category=body.category,
        actor=actor,
        clock=ictx.clock,
        alert_ids=body.alert_ids,
        summary=body.summary,
        config=ictx.config,
    )


@router.get(
    "/{incident_id}", summary="One incident with its outputs, roles and timeline", **guarded("incidents.read")
)
async def incidents_show(session: DbSession, ictx: Incidents, incident_id: Id) -> IncidentDetail:
    return await _detail(session, ictx, incident_id)


@router.get("/{incident_id}/timeline", summary="The merged timeline", **guarded("incidents.read"))
async def incidents_timeline(session: DbSession, ictx: Incidents, incident_id: Id) -> list[TimelineEntry]:
    return (await _detail(session, ictx, incident_id)).timeline


@router.post("/{incident_id}/advance", summary="Move to the next phase", **guarded("incidents.manage"))
async def incidents_advance(
    session: DbSession, ictx: Incidents, actor: CurrentActor, incident_id: Id, body: AdvanceBody
) -> IncidentView:
    return await service.advance(
        session,
        incident_id=incident_id,
        to_phase=body.to_phase,
        actor=actor,
        clock=ictx.clock,
        note=body.note,
    )


@router.post(
    "/{incident_id}/classification", summary="Change severity or category", **guarded("incidents.manage")
)
async def incidents_classify(
    session: DbSession, ictx: Incidents, actor: CurrentActor, incident_id: Id, body: ClassifyBody
) -> IncidentView:
    return await service.reclassify(
        session,
        incident_id=incident_id,
        actor=actor,
        clock=ictx.clock,
        severity=body.severity,
        category=body.category,
        reason=body.reason,
        config=ictx.config,
    )


@router.post("/{incident_id}/outputs", summary="Record a phase output", **guarded("incidents.manage"))
async def incidents_output(
    session: DbSession, ictx: Incidents, actor: CurrentActor, incident_id: Id, body: OutputBody
) -> IncidentView:
    return await record_output(
        session,
        incident_id=incident_id,
        key=body.key,
        text=body.text,
        actor=actor,
        clock=ictx.clock,
        not_required=body.not_required,
    )


@router.post("/{incident_id}/roles", summary="Assign or remove a role", **guarded("incidents.manage"))
async def incidents_role(
    session: DbSession, ictx: Incidents, actor: CurrentActor, incident_id: Id, body: RoleBody
) -> IncidentView:
    return await assign_role(
        session,
        incident_id=incident_id,
        role=body.role,
        username=body.username,
        actor=actor,
        clock=ictx.clock,
        remove=body.remove,
    )


@router.post("/{incident_id}/notes", summary="Add a note to the timeline", **guarded("incidents.manage"))
async def incidents_note(
    session: DbSession, ictx: Incidents, actor: CurrentActor, incident_id: Id, body: NoteBody
) -> IncidentView:
    return await service.add_note(
        session, incident_id=incident_id, text=body.text, actor=actor, clock=ictx.clock
    )


@router.post("/{incident_id}/alerts", summary="Link more alerts", **guarded("incidents.manage"))
async def incidents_link(
    session: DbSession, ictx: Incidents, actor: CurrentActor, incident_id: Id, body: AlertsBody
) -> IncidentView:
    return await service.link_alerts(
        session, incident_id=incident_id, alert_ids=body.alert_ids, actor=actor, clock=ictx.clock
    )


@router.post("/{incident_id}/close", summary="Close the incident", **guarded("incidents.manage"))
async def incidents_close(
    session: DbSession, ictx: Incidents, actor: CurrentActor, incident_id: Id, body: CloseBody | None = None
) -> IncidentView:
    return await service.close(
        session, incident_id=incident_id, actor=actor, clock=ictx.clock, note=body.note if body else None
    )


__all__ = ["router"]
