"""Incident pages: the list (open first) with the "Declare incident" form, and one incident with its phase
steps, the current phase's required outputs (a form to record each), "Advance to <next phase>", roles,
notes, corrective-action tasks, communications, evidence, the emergency actions linked to it, the live
timeline, report links and Close.

Every form posts to its own route behind its own permission (``incidents.declare``, ``incidents.manage``,
``incidents.communicate``); the incident services do the work in one transaction with their audit entry.
A refusal from a service (an output missing, a closed incident, an unknown user) is shown on the page with
the service's message and the matching status code (409/422/404), never as a stack trace.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from fictra.alerting.queries import get_alert, list_alerts
from fictra.alerting.schemas import AlertView
from fictra.api.context import AppContext
from fictra.api.deps import app_context
from fictra.auth.actor import Actor
from fictra.errors import ConflictError, FictraError, NotFoundError, PermissionDeniedError, UsageError
from fictra.incidents import evidence, service
from fictra.incidents import report as report_module
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.phases import CATEGORIES, PHASES, SEVERITIES, Phase, next_phase, output_spec
from fictra.incidents.schemas import IncidentSummary, IncidentView
from fictra.web.access import forbidden, form_expired, needs, not_found, page, signed_in, to_login

router = APIRouter(include_in_schema=False)
LIST_LIMIT = 200
ALERTS_OFFERED = 50
PHASE_TITLES = {
    "detection": "Detection",
    "response": "Response",
    "recovery": "Recovery",
    "post_incident": "Post-incident",
    "closed": "Closed",
}
CATEGORY_TITLES = {
    "smart_contract": "smart contract",
    "security": "security",
    "market": "market",
    "infrastructure": "infrastructure",
    "oracle": "oracle",
    "compliance": "compliance",
}
ROLE_TITLES = {
    "commander": "Incident commander",
    "scribe": "Scribe",
    "liaison": "Communications liaison",
    "responder": "Responder",
}


# -- who may do what --------------------------------------------------------------------------------


async def gate(request: Request, permission: str) -> Actor | Response:
    """The signed-in actor holding ``permission``, or the response to send instead: the login redirect,
    "Form expired" (a POST whose CSRF token does not match the session) or "Not allowed"."""
    try:
        actor = await signed_in(request)  # with a session cookie a POST's CSRF token is checked here
    except PermissionDeniedError:
        return form_expired()
    if actor is None:
        return to_login(request)
    if not actor.can(permission):
        return forbidden(request, actor, permission)
    return actor


def error_status(exc: FictraError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, ConflictError):
        return 409
    return 422


def as_int(value: object) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


# -- the list and the declare form ------------------------------------------------------------------


@dataclass(frozen=True)
class DeclareForm:
    title: str = ""
    severity: str = "P1"
    category: str = "smart_contract"
    summary: str = ""
    alert_ids: tuple[int, ...] = ()

    @classmethod
    def of(cls, form: FormData) -> DeclareForm:
        ids = tuple(sorted({i for v in form.getlist("alert") if (i := as_int(v)) is not None}))
        return cls(
            title=str(form.get("title") or "").strip(),
            severity=str(form.get("severity") or "").strip(),
            category=str(form.get("category") or "").strip(),
            summary=str(form.get("summary") or "").strip(),
            alert_ids=ids,
        )


def _sorted(incidents: list[IncidentSummary]) -> list[IncidentSummary]:
    """Open first (most severe, then newest), then closed (newest first)."""
    open_ = sorted(
        (i for i in incidents if i.status == "open"),
        key=lambda i: (i.severity, -i.declared_at.timestamp(), -i.id),
    )
    closed = [i for i in incidents if i.status != "open"]
    return [*open_, *closed]


def age(since: datetime, now: datetime) -> str:
    """``3d 4h``, ``2h 05m`` or ``12m`` since ``since``."""
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    seconds = max(0, int((now - since).total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


async def _list_data(session: AsyncSession, status: str) -> dict[str, Any]:
    problem = None
    if status not in ("", "open", "closed"):
        problem = f"Status '{status}' is not open or closed."
        status = ""
    incidents = await service.list_incidents(session, status=status or None, limit=LIST_LIMIT)
    return {
        "incidents": _sorted(incidents),
        "status": status,
        "problem": problem,
        "truncated": len(incidents) >= LIST_LIMIT,
    }


async def _offered_alerts(session: AsyncSession, chosen: tuple[int, ...]) -> list[AlertView]:
    """The alerts the declare form offers: the chosen ones (even when resolved) and the firing ones."""
    firing = [
        a
        for a in await list_alerts(session, status="firing", limit=ALERTS_OFFERED)
        if a.confirmation != "retracted"
    ]
    have = {a.id for a in firing}
    extra: list[AlertView] = []
    for alert_id in chosen:
        if alert_id not in have:
            try:
                extra.append(await get_alert(session, str(alert_id)))
            except NotFoundError:
                continue
    return [*extra, *firing]


def _templating() -> dict[str, Any]:
    return {
        "PHASES": [p.value for p in PHASES],
        "PHASE_TITLES": PHASE_TITLES,
        "CATEGORIES": CATEGORIES,
        "CATEGORY_TITLES": CATEGORY_TITLES,
        "INCIDENT_SEVERITIES": SEVERITIES,
        "ROLE_TITLES": ROLE_TITLES,
        "age": age,
    }


async def _list_page(
    request: Request,
    actor: Actor,
    *,
    template: str = "incidents.html",
    form: DeclareForm | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = app_context(request)
    status = (request.query_params.get("status") or "").strip()
    form = form or DeclareForm()
    async with context.sessions() as session:
        data = await _list_data(session, status)
        offered = await _offered_alerts(session, form.alert_ids) if actor.can("incidents.declare") else []
    return page(
        request,
        actor,
        template,
        status_code=status_code,
        page="incidents",
        form=form,
        offered=offered,
        declare_error=error,
        **data,
        **_templating(),
    )


@router.get("/incidents", **needs("incidents.read"))
async def incidents_page(request: Request) -> Response:
    actor = await gate(request, "incidents.read")
    if not isinstance(actor, Actor):
        return actor
    return await _list_page(request, actor)


@router.get("/ui/incidents", **needs("incidents.read"))
async def incidents_fragment(request: Request) -> Response:
    actor = await gate(request, "incidents.read")
    if not isinstance(actor, Actor):
        return actor
    return await _list_page(request, actor, template="partials/incident_table.html")


@router.get("/incidents/new", **needs("incidents.declare"))
async def declare_page(request: Request) -> Response:
    """The declare form on its own page; ``?alert=ID`` (repeatable) preselects alerts, and the first one
    suggests the title and severity."""
    actor = await gate(request, "incidents.declare")
    if not isinstance(actor, Actor):
        return actor
    ids = tuple(i for v in request.query_params.getlist("alert") if (i := as_int(v)) is not None)
    form = DeclareForm(alert_ids=ids)
    context = app_context(request)
    if ids:
        async with context.sessions() as session:
            try:
                first = await get_alert(session, str(ids[0]))
            except NotFoundError:
                first = None
        if first is not None:
            form = DeclareForm(
                title=first.summary,
                severity=first.severity if first.severity in SEVERITIES else "P1",
                category=_category_for(context, first),
                alert_ids=ids,
            )
    return await _list_page(request, actor, template="incident_new.html", form=form)


def _category_for(context: AppContext, alert: AlertView) -> str:
    """The category the auto-declare policy would give this alert (config/incidents.yaml rules)."""
    return context.config_set.incidents.auto_declare.category_of(alert.monitor, dict(alert.labels))


@router.post("/incidents", **needs("incidents.declare"))
async def declare(request: Request) -> Response:
    actor = await gate(request, "incidents.declare")
    if not isinstance(actor, Actor):
        return actor
    form = DeclareForm.of(await request.form())
    context = app_context(request)
    try:
        async with context.sessions() as session, session.begin():
            view = await service.declare(
                session,
                title=form.title,
                severity=form.severity,
                category=form.category,
                actor=actor,
                clock=context.clock,
                alert_ids=form.alert_ids,
                summary=form.summary or None,
                config=_incidents_config(context),
            )
    except FictraError as exc:
        return await _list_page(
            request,
            actor,
            template="incident_new.html",
            form=form,
            error=exc.user_message,
            status_code=error_status(exc),
        )
    return RedirectResponse(f"/incidents/{view.id}", status_code=303)


def _incidents_config(context: AppContext) -> IncidentsConfig:
    return context.config_set.incidents


# -- one incident -----------------------------------------------------------------------------------


def _phase_steps(incident: IncidentView) -> list[dict[str, str]]:
    current = PHASES.index(Phase(incident.phase))
    steps = []
    for i, phase in enumerate(PHASES):
        state = "done" if i < current else "current" if i == current else "todo"
        if incident.status == "closed":
            state = "done" if phase != Phase.CLOSED else "current"
        steps.append({"key": phase.value, "title": PHASE_TITLES[phase.value], "state": state})
    return steps


def _outputs_by_phase(incident: IncidentView) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for phase in PHASES:
        if phase == Phase.CLOSED:
            continue
        rows: list[dict[str, Any]] = []
        for o in incident.outputs:
            if o.phase != phase.value:
                continue
            spec = output_spec(o.key)
            rows.append(
                {
                    "o": o,
                    "may_skip": bool(spec and spec.may_skip),
                    "derived": bool(spec and spec.derived),
                }
            )
        missing = sum(1 for o in incident.outputs if o.phase == phase.value and o.status == "missing")
        groups.append(
            {
                "phase": phase.value,
                "title": PHASE_TITLES[phase.value],
                "rows": rows,
                "missing": missing,
                "current": phase.value == incident.phase,
            }
        )
    return groups


async def _detail_data(
    request: Request, session: AsyncSession, actor: Actor, incident_id: int
) -> dict[str, Any]:
    from fictra.emergency.service import list_actions
    from fictra.incidents.timeline import timeline

    context = app_context(request)
    incident = await service.get_incident(session, incident_id)
    upcoming = next_phase(incident.phase)
    items = await timeline(session, incident_id)
    actions = await list_actions(session, incident_id=incident_id, limit=100, clock=context.clock)
    return {
        "incident": incident,
        "steps": _phase_steps(incident),
        "output_groups": _outputs_by_phase(incident),
        "next_phase": upcoming.value if upcoming is not None and upcoming != Phase.CLOSED else None,
        "timeline": sorted(items, key=lambda t: _aware(t.at)),
        "actions": actions,
        "evidence": await _evidence(session, incident_id),
        "users": await _usernames(session),
        "comms": _comms(context),
        "action_kinds": _action_kinds(),
        **_templating(),
    }


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def _evidence(session: AsyncSession, incident_id: int) -> list[evidence.EvidenceRecord]:
    """Newest first."""
    found = await evidence.list_evidence(session, incident_id=incident_id)
    return sorted(found, key=lambda r: r["id"], reverse=True)


async def _usernames(session: AsyncSession) -> list[str]:
    from fictra.auth.models import User

    rows = await session.execute(
        select(User.username).where(User.disabled.is_(False)).order_by(User.username)
    )
    return [str(u) for u in rows.scalars()]


def _comms(context: AppContext) -> dict[str, Any]:
    from fictra.incidents.communications import TEMPLATES
    from fictra.incidents.config import GROUPS

    return {"groups": list(GROUPS), "templates": list(TEMPLATES)}


def _action_kinds() -> list[Any]:
    from fictra.emergency.definitions import DEFINITIONS

    return [d for d in DEFINITIONS.values() if d.mode != "policy"]


async def render_detail(
    request: Request,
    actor: Actor,
    incident_id: int,
    *,
    template: str = "incident_detail.html",
    status_code: int = 200,
    error: str | None = None,
    section: str | None = None,
) -> Response:
    context = app_context(request)
    try:
        async with context.sessions() as session:
            data = await _detail_data(request, session, actor, incident_id)
    except NotFoundError as exc:
        return not_found(
            request, actor, page_name="incidents", heading="No such incident", message=exc.user_message
        )
    done = request.query_params.get("done")
    return page(
        request,
        actor,
        template,
        status_code=status_code,
        page="incidents",
        incident_error=error,
        error_section=section,
        flash=DONE.get(done or "") if error is None else None,
        **data,
    )


DONE = {
    "output": "Output recorded.",
    "classification": "Classification changed.",
    "alerts": "Alerts linked.",
    "advance": "Phase changed.",
    "role": "Role updated.",
    "note": "Note added.",
    "task": "Task added.",
    "task_done": "Task marked done.",
    "evidence": "Evidence collected.",
    "update": "Status update queued for the stakeholder groups.",
    "meeting": "Emergency meeting scheduled; attendees notified.",
    "close": "Incident closed.",
}


@router.get("/incidents/{incident_id}", **needs("incidents.read"))
async def incident_page(request: Request, incident_id: int) -> Response:
    actor = await gate(request, "incidents.read")
    if not isinstance(actor, Actor):
        return actor
    return await render_detail(request, actor, incident_id)


@router.get("/ui/incidents/{incident_id}/timeline", **needs("incidents.read"))
async def timeline_fragment(request: Request, incident_id: int) -> Response:
    actor = await gate(request, "incidents.read")
    if not isinstance(actor, Actor):
        return actor
    return await render_detail(request, actor, incident_id, template="partials/incident_timeline.html")


Step = Callable[[AsyncSession, Actor, FormData, AppContext], Awaitable[None]]


async def _act(
    request: Request, incident_id: int, permission: str, done: str, step: Step, *, section: str
) -> Response:
    """Run one form's ``step`` in a transaction; back to the incident page (303) or the page again with
    the service's refusal."""
    actor = await gate(request, permission)
    if not isinstance(actor, Actor):
        return actor
    form = await request.form()
    context = app_context(request)
    try:
        async with context.sessions() as session, session.begin():
            await step(session, actor, form, context)
    except FictraError as exc:
        return await render_detail(  # (an unknown incident: _detail answers with the 404 page)
            request,
            actor,
            incident_id,
            status_code=error_status(exc),
            error=exc.user_message,
            section=section,
        )
    return RedirectResponse(f"/incidents/{incident_id}?done={done}#{section}", status_code=303)


@router.post("/incidents/{incident_id}/outputs", **needs("incidents.manage"))
async def record_output(request: Request, incident_id: int) -> Response:
    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        await service.record_output(
            session,
            incident_id=incident_id,
            key=str(form.get("key") or ""),
            text=str(form.get("text") or ""),
            actor=actor,
            clock=ctx.clock,
            not_required=form.get("not_required") in ("1", "on", "true"),
        )

    return await _act(request, incident_id, "incidents.manage", "output", step, section="outputs")


@router.post("/incidents/{incident_id}/classification", **needs("incidents.manage"))
async def reclassify(request: Request, incident_id: int) -> Response:
    """Severity and/or category changed after triage (only what differs from the incident's)."""

    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        current = await service.get_incident(session, incident_id)
        severity = str(form.get("severity") or "").strip() or None
        category = str(form.get("category") or "").strip() or None
        await service.reclassify(
            session,
            incident_id=incident_id,
            actor=actor,
            clock=ctx.clock,
            severity=severity if severity != current.severity else None,
            category=category if category != current.category else None,
            reason=str(form.get("reason") or "").strip() or None,
            config=_incidents_config(ctx),
        )

    return await _act(request, incident_id, "incidents.manage", "classification", step, section="incident")


@router.post("/incidents/{incident_id}/alerts", **needs("incidents.manage"))
async def link_alerts(request: Request, incident_id: int) -> Response:
    """Attach more alerts (ids, comma or space separated) to an open incident."""

    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        raw = str(form.get("alert_ids") or "").replace(",", " ").split()
        bad = [v for v in raw if not v.lstrip("#").isdigit()]
        if bad or not raw:
            raise UsageError(
                f"Alert ids '{' '.join(bad) or '(none)'}' are not numbers; give alert ids like 12, 15."
            )
        await service.link_alerts(
            session,
            incident_id=incident_id,
            alert_ids=[int(v.lstrip("#")) for v in raw],
            actor=actor,
            clock=ctx.clock,
        )

    return await _act(request, incident_id, "incidents.manage", "alerts", step, section="incident")


@router.post("/incidents/{incident_id}/advance", **needs("incidents.manage"))
async def advance(request: Request, incident_id: int) -> Response:
    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        await service.advance(
            session,
            incident_id=incident_id,
            to_phase=str(form.get("to_phase") or ""),
            actor=actor,
            clock=ctx.clock,
            note=str(form.get("note") or "") or None,
        )

    return await _act(request, incident_id, "incidents.manage", "advance", step, section="outputs")


@router.post("/incidents/{incident_id}/roles", **needs("incidents.manage"))
async def assign_role(request: Request, incident_id: int) -> Response:
    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        await service.assign_role(
            session,
            incident_id=incident_id,
            role=str(form.get("role") or ""),
            username=str(form.get("username") or ""),
            actor=actor,
            clock=ctx.clock,
            remove=form.get("remove") in ("1", "on", "true"),
        )

    return await _act(request, incident_id, "incidents.manage", "role", step, section="roles")


@router.post("/incidents/{incident_id}/notes", **needs("incidents.manage"))
async def add_note(request: Request, incident_id: int) -> Response:
    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        await service.add_note(
            session, incident_id=incident_id, text=str(form.get("text") or ""), actor=actor, clock=ctx.clock
        )

    return await _act(request, incident_id, "incidents.manage", "note", step, section="timeline")


def parse_due(value: str, now: datetime) -> datetime:
    """A task's due date from the form: ``YYYY-MM-DD`` (end of that day, UTC) or ``YYYY-MM-DDTHH:MM``."""
    text = value.strip()
    if not text:
        raise UsageError("The due date is empty; pick the day the task is due.")
    try:
        if "T" in text:
            due = datetime.fromisoformat(text)
        else:
            due = datetime.combine(datetime.fromisoformat(text).date(), time(23, 59), tzinfo=UTC)
    except ValueError:
        raise UsageError(f"Due date '{text}' is not a date (YYYY-MM-DD).") from None
    return due if due.tzinfo is not None else due.replace(tzinfo=UTC)


@router.post("/incidents/{incident_id}/tasks", **needs("incidents.manage"))
async def add_task(request: Request, incident_id: int) -> Response:
    from fictra.incidents import tasks

    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        await tasks.add_task(
            session,
            incident_id=incident_id,
            title=str(form.get("title") or ""),
            owner=str(form.get("owner") or ""),
            due_at=parse_due(str(form.get("due") or ""), ctx.clock.now()),
            actor=actor,
            clock=ctx.clock,
        )

    return await _act(request, incident_id, "incidents.manage", "task", step, section="tasks")


@router.post("/incidents/{incident_id}/tasks/{task_id}/done", **needs("incidents.manage"))
async def task_done(request: Request, incident_id: int, task_id: int) -> Response:
    from fictra.incidents import tasks

    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        await tasks.update_task(
            session, incident_id=incident_id, task_id=task_id, actor=actor, clock=ctx.clock, status="done"
        )

    return await _act(request, incident_id, "incidents.manage", "task_done", step, section="tasks")


@router.post("/incidents/{incident_id}/evidence", **needs("incidents.manage"))
async def collect_evidence(request: Request, incident_id: int) -> Response:

    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        platform = ctx.platform
        if platform is None:
            raise ConflictError(
                "Evidence needs the chain: this console runs without the platform's RPC pool "
                "(start it with `fictra up`)."
            )
        incident = await service.get_incident(session, incident_id)
        await evidence.collect(
            session,
            incident_id=incident_id,
            pool=platform.pool,
            manifest=platform.manifest,
            clock=ctx.clock,
            actor=actor,
            alert_ids=incident.alert_ids,
        )

    return await _act(request, incident_id, "incidents.manage", "evidence", step, section="evidence")


@router.post("/incidents/{incident_id}/updates", **needs("incidents.communicate"))
async def send_update(request: Request, incident_id: int) -> Response:
    from fictra.incidents import communications

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
            config=_incidents_config(ctx),
            console_url=console,
        )

    return await _act(request, incident_id, "incidents.communicate", "update", step, section="comms")


@router.post("/incidents/{incident_id}/meetings", **needs("incidents.communicate"))
async def schedule_meeting(request: Request, incident_id: int) -> Response:
    from fictra.incidents import communications

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
            config=_incidents_config(ctx),
            console_url=console,
        )

    return await _act(request, incident_id, "incidents.communicate", "meeting", step, section="comms")


@router.post("/incidents/{incident_id}/close", **needs("incidents.manage"))
async def close(request: Request, incident_id: int) -> Response:
    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        await service.close(
            session,
            incident_id=incident_id,
            actor=actor,
            clock=ctx.clock,
            note=str(form.get("note") or "") or None,
        )

    return await _act(request, incident_id, "incidents.manage", "close", step, section="outputs")


@router.get("/incidents/{incident_id}/evidence/{evidence_id}", **needs("incidents.read"))
async def evidence_document(request: Request, incident_id: int, evidence_id: int) -> Response:
    """One evidence document exactly as hashed (canonical JSON): its SHA-256 is the page's."""
    actor = await gate(request, "incidents.read")
    if not isinstance(actor, Actor):
        return actor
    context = app_context(request)
    try:
        async with context.sessions() as session:
            document = await evidence.get_document(session, incident_id=incident_id, evidence_id=evidence_id)
    except FictraError as exc:
        return page(
            request,
            actor,
            "error.html",
            status_code=error_status(exc),
            page="incidents",
            heading="No such evidence",
            message=exc.user_message,
        )
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


@router.get("/incidents/{incident_id}/report.{fmt}", **needs("incidents.read"))
async def report(request: Request, incident_id: int, fmt: str) -> Response:
    """The incident report from the runbook's template as Markdown, HTML or PDF (a download). Generated
    by someone who runs the incident, it is on the timeline and, post-incident, records the report
    output; a reader only gets the document."""
    actor = await gate(request, "incidents.read")
    if not isinstance(actor, Actor):
        return actor
    if fmt not in REPORT_TYPES:
        return page(
            request,
            actor,
            "error.html",
            status_code=404,
            page="incidents",
            heading="No such report format",
            message=f"Report format '{fmt}' is not one of {', '.join(REPORT_TYPES)}.",
        )
    context = app_context(request)
    try:
        async with context.sessions() as session, session.begin():
            if actor.can("incidents.manage"):  # generating it is the post-incident "report" output
                body = await report_module.generate(
                    session, incident_id=incident_id, fmt=fmt, actor=actor, clock=context.clock
                )
            else:
                body = await report_module.render(session, incident_id, fmt, clock=context.clock)
    except FictraError as exc:
        return page(
            request,
            actor,
            "error.html",
            status_code=error_status(exc),
            page="incidents",
            heading="No report",
            message=exc.user_message,
        )
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(
        body,
        media_type=REPORT_TYPES[fmt],
        headers={"Content-Disposition": f'{disposition}; filename="incident-{incident_id}.{fmt}"'},
    )
