"""What an incident sends and produces: evidence collected from the chain, status updates to the
stakeholder groups and emergency meetings (``incidents.communicate``), one evidence document exactly as
hashed, and the report (Markdown, HTML, PDF)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from fictra.api.context import AppContext
from fictra.api.deps import app_context, guarded
from fictra.api.routes.incidents import incidents_context
from fictra.auth.actor import Actor
from fictra.errors import ConflictError, FictraError, NotFoundError, UsageError
from fictra.incidents import communications, evidence
from fictra.incidents import report as report_module
from fictra.incidents.queries import get_incident
from fictra.web.access import ConsoleRoute, SignedIn, error_page
from fictra.web.incidents.common import incidents_config
from fictra.web.incidents.forms import act

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)


@router.post("/incidents/{incident_id}/evidence", **guarded("incidents.manage"))
async def collect_evidence(request: Request, incident_id: int, actor: SignedIn) -> Response:

    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        platform = ctx.platform
        if platform is None:
            raise ConflictError(
                "Evidence needs the chain: this console runs without the platform's RPC pool "
                "(start it with `fictra up`)."
            )
        incident = await get_incident(session, incident_id)
        await evidence.collect(
            session,
            incident_id=incident_id,
            pool=platform.pool,
            manifest=platform.manifest,
            clock=ctx.clock,
            actor=actor,
            alert_ids=incident.alert_ids,
        )

    return await act(request, actor, incident_id, "evidence", step, section="evidence")


@router.post("/incidents/{incident_id}/updates", **guarded("incidents.communicate"))
async def send_update(request: Request, incident_id: int, actor: SignedIn) -> Response:
    console = str(request.base_url).rstrip("/")

    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        groups = [str(g) for g in form.getlist("group")]
        if not groups:
            raise UsageError("Pick at least one stakeholder group to send the update to.")
        message = str(form.get("message") or "").strip()
        await communications.send_update(
            session,
            incident_id=incident_id,
            groups=groups,
            template=str(form.get("template") or "status"),
            actor=actor,
            clock=ctx.clock,
            extra={"message": message} if message else None,
            config=incidents_config(ctx),
            console_url=console,
        )

    return await act(request, actor, incident_id, "update", step, section="comms")


@router.post("/incidents/{incident_id}/meetings", **guarded("incidents.communicate"))
async def schedule_meeting(request: Request, incident_id: int, actor: SignedIn) -> Response:
    console = str(request.base_url).rstrip("/")

    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        starts = str(form.get("starts_at") or "").strip()
        try:
            starts_at = datetime.fromisoformat(starts) if starts else ctx.clock.now() + timedelta(minutes=15)
        except ValueError:
            raise UsageError(f"Meeting time '{starts}' is not a date and time (YYYY-MM-DDTHH:MM).") from None
        attendees = [a.strip() for a in str(form.get("attendees") or "").split(",") if a.strip()]
        await communications.schedule_meeting(
            session,
            incident_id=incident_id,
            starts_at=starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=UTC),
            bridge=str(form.get("bridge") or ""),
            attendees=attendees,
            agenda=str(form.get("agenda") or "") or None,
            actor=actor,
            clock=ctx.clock,
            config=incidents_config(ctx),
            console_url=console,
        )

    return await act(request, actor, incident_id, "meeting", step, section="comms")


@router.get("/incidents/{incident_id}/evidence/{evidence_id}", **guarded("incidents.read"))
async def evidence_document(
    request: Request, incident_id: int, evidence_id: int, actor: SignedIn
) -> Response:
    """One evidence document exactly as hashed (canonical JSON): its SHA-256 is the page's."""
    context = app_context(request)
    try:
        async with context.sessions() as session:
            document = await evidence.get_document(session, incident_id=incident_id, evidence_id=evidence_id)
    except FictraError as exc:
        return error_page(request, exc, page_name="incidents", heading="No such evidence")
    return Response(
        document,
        media_type="application/json",
        headers={
            "Content-Disposition": f'inline; filename="incident-{incident_id}-evidence-{evidence_id}.json"'
        },
    )


REPORT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


@router.get("/incidents/{incident_id}/report.{fmt}", **guarded("incidents.read"))
async def report(request: Request, incident_id: int, fmt: str, actor: SignedIn) -> Response:
    """The incident report from the runbook's template as Markdown, HTML or PDF (a download). Generated
    by someone who runs the incident, it is on the timeline and, post-incident, records the report
    output; a reader only gets the document."""
    if fmt not in REPORT_TYPES:
        unknown = NotFoundError(f"Report format '{fmt}' is not one of {', '.join(REPORT_TYPES)}.")
        return error_page(request, unknown, page_name="incidents", heading="No such report format")
    context = app_context(request)
    ledger = incidents_context(request).actions
    try:
        async with context.sessions() as session, session.begin():
            if actor.can("incidents.manage"):  # generating it is the post-incident "report" output
                body = await report_module.generate(
                    session,
                    incident_id=incident_id,
                    fmt=fmt,
                    actor=actor,
                    clock=context.clock,
                    actions=ledger,
                )
            else:
                body = await report_module.render(
                    session, incident_id, fmt, clock=context.clock, actions=ledger
                )
    except FictraError as exc:
        return error_page(request, exc, page_name="incidents", heading="No report")
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(
        body,
        media_type=REPORT_TYPES[fmt],
        headers={"Content-Disposition": f'{disposition}; filename="incident-{incident_id}.{fmt}"'},
    )
