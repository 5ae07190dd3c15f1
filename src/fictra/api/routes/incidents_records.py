"""The incidents API, continued (prefix /api/v1/incidents): corrective-action tasks, stakeholder
updates, meetings, evidence and the report. The incident itself is :mod:`fictra.api.routes.incidents`.

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
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from fictra.api.deps import DbSession, guarded
from fictra.api.routes.incidents import MAX_ID, AlertId, CurrentActor, Id, Incidents
from fictra.errors import ConflictError, UsageError
from fictra.incidents import communications, evidence, report, tasks
from fictra.incidents.queries import get_incident
from fictra.incidents.schemas import MeetingView, TaskView

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="Task id.")]
EvidenceId = Annotated[int, Path(ge=1, le=MAX_ID, description="Evidence id.")]
Format = Literal["md", "html", "pdf"]
REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The report in the requested format",
        "content": {"text/markdown": {}, "text/html": {}, "application/pdf": {}},
    }
}


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


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise UsageError(f"'{name}' has value '{value.isoformat()}' without a time zone; add Z or +00:00.")


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
    await get_incident(session, incident_id)
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
    data = await report.render(session, incident_id, format, clock=ictx.clock, actions=ictx.actions)
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
    data = await report.generate(
        session, incident_id=incident_id, fmt=format, actor=actor, clock=ictx.clock, actions=ictx.actions
    )
    return _report_response(incident_id, format, data)
