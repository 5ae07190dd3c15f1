"""The incident list (open first, most severe first) and the "Declare incident" form, on the list and on
its own page (``/incidents/new?alert=ID``: alerts preselected, the first one suggesting the title,
severity and category)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from fictra.alerting.queries import get_alert, list_alerts
from fictra.alerting.schemas import AlertView
from fictra.api.context import AppContext
from fictra.api.deps import app_context, guarded
from fictra.api.errors import status_for
from fictra.auth.actor import Actor
from fictra.errors import FictraError, NotFoundError
from fictra.incidents import service
from fictra.incidents.phases import SEVERITIES
from fictra.incidents.queries import list_incidents
from fictra.incidents.schemas import IncidentSummary
from fictra.web.access import ConsoleRoute, SignedIn, page
from fictra.web.incidents.common import as_int, incidents_config, templating

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
LIST_LIMIT = 200
ALERTS_OFFERED = 50


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


async def _list_data(session: AsyncSession, status: str) -> dict[str, Any]:
    problem = None
    if status not in ("", "open", "closed"):
        problem = f"Status '{status}' is not open or closed."
        status = ""
    incidents = await list_incidents(session, status=status or None, limit=LIST_LIMIT)
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
        **templating(),
    )


@router.get("/incidents", **guarded("incidents.read"))
async def incidents_page(request: Request, actor: SignedIn) -> Response:
    return await _list_page(request, actor)


@router.get("/ui/incidents", **guarded("incidents.read"))
async def incidents_fragment(request: Request, actor: SignedIn) -> Response:
    return await _list_page(request, actor, template="partials/incident_table.html")


@router.get("/incidents/new", **guarded("incidents.declare"))
async def declare_page(request: Request, actor: SignedIn) -> Response:
    """The declare form on its own page; ``?alert=ID`` (repeatable) preselects alerts, and the first one
    suggests the title and severity."""
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
    """The category the auto-declare policy would give this alert (the incidents config's rules)."""
    return incidents_config(context).auto_declare.category_of(alert.monitor, dict(alert.labels))


@router.post("/incidents", **guarded("incidents.declare"))
async def declare(request: Request, actor: SignedIn) -> Response:
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
                config=incidents_config(context),
            )
    except FictraError as exc:
        return await _list_page(
            request,
            actor,
            template="incident_new.html",
            form=form,
            error=exc.user_message,
            status_code=status_for(exc),
        )
    return RedirectResponse(f"/incidents/{view.id}", status_code=303)
