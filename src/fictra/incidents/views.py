"""The incidents API (prefix /api/v1/incidents).

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
GET    /incidents/{id}/tasks                      corrective actions                     incidents.read
POST   /incidents/{id}/tasks                      {title, owner, due_at}                 incidents.manage
PATCH  /incidents/{id}/tasks/{task_id}            {status, owner, due_at, title}         incidents.manage
DELETE /incidents/{id}/tasks/{task_id}                                                   incidents.manage
POST   /incidents/{id}/updates                    {template, groups, fields}             incidents.communicate
POST   /incidents/{id}/meetings                   {starts_at, bridge, attendees, agenda} incidents.communicate
GET    /incidents/{id}/evidence                   records with their SHA-256             incidents.read
POST   /incidents/{id}/evidence                   collect now {alert_ids}                incidents.manage
GET    /incidents/{id}/evidence/{eid}             the stored canonical JSON              incidents.read
GET    /incidents/{id}/evidence/{eid}/verify      recompute and compare the hash         incidents.read
GET    /incidents/{id}/report?format=md|html|pdf  render the report                      incidents.read
POST   /incidents/{id}/report?format=md|html|pdf  generate it (records the output)       incidents.manage
POST   /incidents/{id}/close                      {note}                                 incidents.manage
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from fictra.api.deps import DbSession, guarded
from fictra.auth.deps import Actor, current_actor
from fictra.errors import ConflictError, UsageError
from fictra.incidents import communications, evidence, report, service, tasks
from fictra.incidents.schemas import IncidentSummary, IncidentView, MeetingView, TaskView
from fictra.incidents.timeline import timeline
from fictra.incidents.wiring import IncidentsContext

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
CurrentActor = Annotated[Actor, Depends(current_actor)]
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="Incident id.")]
TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="Task id.")]
EvidenceId = Annotated[int, Path(ge=1, le=MAX_ID, description="Evidence id.")]
AlertId = Annotated[int, Field(ge=1, le=MAX_ID)]
Format = Literal["md", "html", "pdf"]
REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report in the requested format",
        "content": {"text/markdown": {}, "text/html": {}, "application/pdf": {}},
    }
}


def incidents_context(request: Request) -> IncidentsContext:
    """The running platform's incidents context, or one built from the app's config (cached; it has no
    RPC pool, so on-demand evidence needs the platform)."""
    app_ctx = request.app.state.context
    found = getattr(app_ctx.platform, "incidents", None) if app_ctx.platform is not None else None
    if isinstance(found, IncidentsContext):
        return found
    cached = getattr(request.app.state, "incidents_context", None)
    if isinstance(cached, IncidentsContext):
        return cached
    ctx = IncidentsContext(config=app_ctx.config_set.incidents, clock=app_ctx.clock)
    if app_ctx.platform is not None:
        ctx.pool, ctx.manifest = app_ctx.platform.pool, app_ctx.platform.manifest
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


class TaskBody(BaseModel):
    title: str = Field(min_length=1, max_length=500)
    owner: str = Field(min_length=1, max_length=64)
    due_at: datetime


class TaskPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=500)
    owner: str | None = Field(default=None, min_length=1, max_length=64)
    due_at: datetime | None = None
    status: Literal["open", "done"] | None = None


class UpdateBody(BaseModel):
    template: Literal["initial", "status", "resolution", "market"]
    groups: list[
        Literal[
            "technical_team", "business_team", "sovereign_participants", "market_participants", "regulators"
        ]
    ] = Field(min_length=1, max_length=5)
    fields: dict[Literal["message", "impact", "trading"], str] = Field(default_factory=dict)


class UpdateView(BaseModel):
    incident_id: int
    template: str
    subject: str
    deliveries: list[dict[str, Any]]


class MeetingBody(BaseModel):
    starts_at: datetime
    bridge: str = Field(min_length=1, max_length=500)
    attendees: list[str] = Field(min_length=1, max_length=50)
    agenda: str | None = Field(default=None, max_length=4000)


class EvidenceBody(BaseModel):
    alert_ids: list[AlertId] | None = Field(default=None, max_length=100)


class EvidenceView(BaseModel):
    id: int
    incident_id: int
    sha256: str
    collected_at: datetime
    collected_by: str
    trigger: str
    summary: dict[str, Any]
    size: int


class VerifyView(BaseModel):
    evidence_id: int
    sha256: str
    verified: bool


class CloseBody(BaseModel):
    note: str | None = Field(default=None, max_length=4000)


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise UsageError(f"'{name}' has value '{value.isoformat()}' without a time zone; add Z or +00:00.")


async def _detail(session: DbSession, incident_id: int) -> IncidentDetail:
    view = await service.get_incident(session, incident_id)
    items = await timeline(session, incident_id)
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
    return await service.list_incidents(
        session, status=status, severity=severity, category=category, limit=limit
    )


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
async def incidents_show(session: DbSession, incident_id: Id) -> IncidentDetail:
    return await _detail(session, incident_id)


@router.get("/{incident_id}/timeline", summary="The merged timeline", **guarded("incidents.read"))
async def incidents_timeline(session: DbSession, incident_id: Id) -> list[TimelineEntry]:
    return (await _detail(session, incident_id)).timeline


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
    return await service.record_output(
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
    return await service.assign_role(
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


@router.get("/{incident_id}/tasks", summary="Corrective actions", **guarded("incidents.read"))
async def incidents_tasks(session: DbSession, incident_id: Id) -> list[TaskView]:
    return await tasks.list_tasks(session, incident_id=incident_id)


@router.post(
    "/{incident_id}/tasks", summary="Add a corrective action", status_code=201, **guarded("incidents.manage")
)
async def incidents_task_add(
    session: DbSession, ictx: Incidents, actor: CurrentActor, incident_id: Id, body: TaskBody
) -> TaskView:
    _aware("due_at", body.due_at)
    return await tasks.add_task(
        session,
        incident_id=incident_id,
        title=body.title,
        owner=body.owner,
        due_at=body.due_at,
        actor=actor,
        clock=ictx.clock,
    )


@router.patch(
    "/{incident_id}/tasks/{task_id}", summary="Update a corrective action", **guarded("incidents.manage")
)
async def incidents_task_update(
    session: DbSession,
    ictx: Incidents,
    actor: CurrentActor,
    incident_id: Id,
    task_id: TaskId,
    body: TaskPatch,
) -> TaskView:
    _aware("due_at", body.due_at)
    return await tasks.update_task(
        session,
        incident_id=incident_id,
        task_id=task_id,
        actor=actor,
        clock=ictx.clock,
        status=body.status,
        owner=body.owner,
        due_at=body.due_at,
        title=body.title,
    )


@router.delete(
    "/{incident_id}/tasks/{task_id}",
    summary="Remove a corrective action",
    status_code=204,
    **guarded("incidents.manage"),
)
async def incidents_task_delete(
    session: DbSession, ictx: Incidents, actor: CurrentActor, incident_id: Id, task_id: TaskId
) -> Response:
    await tasks.delete_task(session, incident_id=incident_id, task_id=task_id, actor=actor, clock=ictx.clock)
    return Response(status_code=204)


@router.post(
    "/{incident_id}/updates", summary="Send a stakeholder update", **guarded("incidents.communicate")
)
async def incidents_update(
    session: DbSession, ictx: Incidents, actor: CurrentActor, incident_id: Id, body: UpdateBody
) -> UpdateView:
    result = await communications.send_update(
        session,
        incident_id=incident_id,
        groups=list(body.groups),
        template=body.template,
        actor=actor,
        clock=ictx.clock,
        extra={str(k): v for k, v in body.fields.items()},
        config=ictx.config,
        console_url=ictx.console_url,
    )
    return UpdateView(
        incident_id=result.incident_id,
        template=result.template,
        subject=result.subject,
        deliveries=result.deliveries,
    )


@router.post(
    "/{incident_id}/meetings",
    summary="Schedule an emergency meeting",
    status_code=201,
    **guarded("incidents.communicate"),
)
async def incidents_meeting(
    session: DbSession, ictx: Incidents, actor: CurrentActor, incident_id: Id, body: MeetingBody
) -> MeetingView:
    _aware("starts_at", body.starts_at)
    return await communications.schedule_meeting(
        session,
        incident_id=incident_id,
        starts_at=body.starts_at,
        bridge=body.bridge,
        attendees=body.attendees,
        agenda=body.agenda,
        actor=actor,
        clock=ictx.clock,
        config=ictx.config,
        console_url=ictx.console_url,
    )


@router.get(
    "/{incident_id}/evidence", summary="Evidence records and their hashes", **guarded("incidents.read")
)
async def incidents_evidence(session: DbSession, incident_id: Id) -> list[EvidenceView]:
    return [
        EvidenceView.model_validate(dict(r))
        for r in await evidence.list_evidence(session, incident_id=incident_id)
    ]


@router.post(
    "/{incident_id}/evidence", summary="Collect evidence now", status_code=201, **guarded("incidents.manage")
)
async def incidents_evidence_collect(
    session: DbSession,
    ictx: Incidents,
    actor: CurrentActor,
    incident_id: Id,
    body: EvidenceBody | None = None,
) -> EvidenceView:
    await service.get_incident(session, incident_id)
    if ictx.pool is None or ictx.manifest is None:
        raise ConflictError(
            "Evidence is collected through the running platform's RPC pool; this server has none "
            "(run `fictra up`, or `fictra incidents evidence ID` on the machine that runs it)."
        )
    record = await evidence.collect(
        session,
        incident_id=incident_id,
        pool=ictx.pool,
        manifest=ictx.manifest,
        clock=ictx.clock,
        actor=actor,
        alert_ids=body.alert_ids if body else None,
    )
    return EvidenceView.model_validate(dict(record))


@router.get(
    "/{incident_id}/evidence/{evidence_id}",
    summary="The stored evidence document (canonical JSON)",
    response_class=Response,
    responses={200: {"description": "Canonical JSON", "content": {"application/json": {}}}},
    **guarded("incidents.read"),
)
async def incidents_evidence_document(
    session: DbSession, incident_id: Id, evidence_id: EvidenceId
) -> Response:
    document = await evidence.get_document(session, incident_id=incident_id, evidence_id=evidence_id)
    return Response(content=document.encode("utf-8"), media_type="application/json")


@router.get(
    "/{incident_id}/evidence/{evidence_id}/verify", summary="Recompute the hash", **guarded("incidents.read")
)
async def incidents_evidence_verify(
    session: DbSession, incident_id: Id, evidence_id: EvidenceId
) -> VerifyView:
    return VerifyView.model_validate(
        await evidence.verify(session, incident_id=incident_id, evidence_id=evidence_id)
    )


def _report_response(incident_id: int, fmt: str, data: bytes) -> Response:
    name = f"incident-{incident_id}-report.{fmt}"
    disposition = "attachment" if fmt == "pdf" else "inline"
    return Response(
        content=data,
        media_type=report.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )


@router.get(
    "/{incident_id}/report",
    summary="Render the incident report",
    response_class=Response,
    responses=REPORT_RESPONSES,
    **guarded("incidents.read"),
)
async def incidents_report(
    session: DbSession, ictx: Incidents, incident_id: Id, format: Annotated[Format, Query()] = "md"
) -> Response:
    data = await report.render(session, incident_id, format, clock=ictx.clock)
    return _report_response(incident_id, format, data)


@router.post(
    "/{incident_id}/report",
    summary="Generate the incident report (records the report output post-incident)",
    response_class=Response,
    responses=REPORT_RESPONSES,
    **guarded("incidents.manage"),
)
async def incidents_report_generate(
    session: DbSession,
    ictx: Incidents,
    actor: CurrentActor,
    incident_id: Id,
    format: Annotated[Format, Query()] = "pdf",
) -> Response:
    data = await report.generate(session, incident_id=incident_id, fmt=format, actor=actor, clock=ictx.clock)
    return _report_response(incident_id, format, data)


@router.post("/{incident_id}/close", summary="Close the incident", **guarded("incidents.manage"))
async def incidents_close(
    session: DbSession, ictx: Incidents, actor: CurrentActor, incident_id: Id, body: CloseBody | None = None
) -> IncidentView:
    return await service.close(
        session, incident_id=incident_id, actor=actor, clock=ictx.clock, note=body.note if body else None
    )


__all__ = ["router"]
