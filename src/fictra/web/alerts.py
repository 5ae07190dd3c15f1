"""Alert pages: the filtered list (live), one alert with evidence and timeline (live), and the
Acknowledge / Resolve / Add note form, each shown and accepted only with its permission."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fictra.alerting import actions
from fictra.alerting.queries import get_alert, list_alerts
from fictra.alerting.schemas import AlertView
from fictra.api.deps import app_context
from fictra.auth.actor import Actor
from fictra.errors import ConflictError, NotFoundError, PermissionDeniedError, UsageError
from fictra.web.access import forbidden, form_expired, needs, not_found, page, signed_in, to_login
from fictra.web.escalation import RESPONSE_ACTIONS, SNOOZES, response_for, run_response_action
from fictra.web.evidence import evidence_rows, timeline
from fictra.web.health import AREA_TITLES, area_of
from fictra.web.overview import areas_map
from fictra.web.templating import SEVERITIES

router = APIRouter(include_in_schema=False)
LIST_LIMIT = 500
ACTIONS = {
    "acknowledge": "alerts.acknowledge",
    "resolve": "alerts.resolve",
    "note": "alerts.note",
    **RESPONSE_ACTIONS,
}


@dataclass(frozen=True)
class Filters:
    severity: str = ""
    status: str = ""
    area: str = ""
    label: str = ""
    q: str = ""

    @classmethod
    def of(cls, request: Request) -> Filters:
        p = request.query_params
        return cls(**{k: (p.get(k) or "").strip() for k in ("severity", "status", "area", "label", "q")})

    def any(self) -> bool:
        return any((self.severity, self.status, self.area, self.label, self.q))


async def _filtered(request: Request, filters: Filters) -> dict[str, Any]:
    problem = None
    labels: dict[str, str] = {}
    if filters.label:
        key, sep, value = filters.label.partition("=")
        if not sep or not key.strip():
            problem = f"Label filter '{filters.label}' is not key=value (e.g. feed=GOLD)."
        else:
            labels[key.strip()] = value.strip()
    if filters.severity and filters.severity not in SEVERITIES:
        problem = f"Severity '{filters.severity}' is not one of {', '.join(SEVERITIES)}."
    if filters.status not in ("", "firing", "resolved"):
        problem = f"Status '{filters.status}' is not firing or resolved."
    if filters.area and filters.area not in AREA_TITLES:
        problem = f"Area '{filters.area}' is not one of {', '.join(AREA_TITLES)}."
    alerts: list[AlertView] = []
    truncated = False
    if problem is None:
        context = app_context(request)
        async with context.sessions() as session:
            alerts = await list_alerts(
                session,
                severity=filters.severity or None,
                status=filters.status or None,
                labels=labels or None,
                limit=LIST_LIMIT,
            )
        truncated = len(alerts) >= LIST_LIMIT
        if filters.area:
            areas = areas_map(context)
            alerts = [a for a in alerts if area_of(a.monitor, areas) == filters.area]
        if filters.q:
            needle = filters.q.lower()
            alerts = [a for a in alerts if needle in a.summary.lower() or needle in a.monitor.lower()]
    return {
        "alerts": alerts,
        "filters": filters,
        "any_filter": filters.any(),
        "problem": problem,
        "truncated": truncated,
        "AREA_TITLES": AREA_TITLES,
    }


async def _list(request: Request, template: str) -> Response:
    actor = await signed_in(request)
    if actor is None:
        return to_login(request)
    if not actor.can("alerts.read"):
        return forbidden(request, actor, "alerts.read")
    data = await _filtered(request, Filters.of(request))
    return page(request, actor, template, page="alerts", **data)


@router.get("/alerts", **needs("alerts.read"))
async def alerts_page(request: Request) -> Response:
    return await _list(request, "alerts.html")


@router.get("/ui/alerts", **needs("alerts.read"))
async def alerts_fragment(request: Request) -> Response:
    response = await _list(request, "partials/alerts_table.html")
    if request.headers.get("HX-Trigger") == "alert-filters" and response.status_code == 200:
        # the filters changed: the address bar follows, so a reload or a shared link keeps them
        query = urlencode([(k, v) for k, v in request.query_params.items() if v])
        response.headers["HX-Replace-Url"] = f"/alerts?{query}" if query else "/alerts"
    return response


async def _detail(
    request: Request, actor: Actor, alert_id: int, template: str, *, status_code: int = 200, **extra: Any
) -> Response:
    context = app_context(request)
    try:
        async with context.sessions() as session:
            alert = await get_alert(session, str(alert_id))
            response = await response_for(request, session, alert_id)
    except NotFoundError as exc:
        return not_found(
            request, actor, page_name="alerts", heading="No such alert", message=exc.user_message
        )
    return page(
        request,
        actor,
        template,
        status_code=status_code,
        page="alerts",
        alert=alert,
        evidence_rows=evidence_rows(alert.evidence),
        timeline=timeline(alert),
        response=response,
        SNOOZES=SNOOZES,
        action_error=extra.pop("action_error", None),
        **extra,
    )


@router.get("/alerts/{alert_id}", **needs("alerts.read"))
async def alert_page(request: Request, alert_id: int) -> Response:
    actor = await signed_in(request)
    if actor is None:
        return to_login(request)
    if not actor.can("alerts.read"):
        return forbidden(request, actor, "alerts.read")
    return await _detail(request, actor, alert_id, "alert_detail.html")


@router.get("/ui/alerts/{alert_id}", **needs("alerts.read"))
async def alert_fragment(request: Request, alert_id: int, part: str = "state") -> Response:
    actor = await signed_in(request)
    if actor is None:
        return to_login(request)
    if not actor.can("alerts.read"):
        return forbidden(request, actor, "alerts.read")
    template = "partials/alert_history.html" if part == "history" else "partials/alert_state.html"
    return await _detail(request, actor, alert_id, template)


@router.post("/alerts/{alert_id}/action", **needs("alerts.read"))
async def alert_action(request: Request, alert_id: int) -> Response:
    """The detail page's form: ``action`` is one of :data:`ACTIONS` (each needs its own permission, on top
    of the declared ``alerts.read``); ``note`` the optional text."""
    try:
        actor = await signed_in(request)  # with a session cookie this checks the form's CSRF token
    except PermissionDeniedError:
        return form_expired()
    if actor is None:
        return to_login(request)
    if not actor.can("alerts.read"):  # the declared floor; each action then needs its own (ACTIONS)
        return forbidden(request, actor, "alerts.read")
    form = await request.form()
    action = str(form.get("action") or "")
    note = str(form.get("note") or "")
    permission = ACTIONS.get(action)
    if permission is None:
        return await _detail(
            request,
            actor,
            alert_id,
            "alert_detail.html",
            status_code=422,
            action_error=f"Unknown action '{action}'; use one of {', '.join(ACTIONS)}.",
        )
    if not actor.can(permission):
        return forbidden(request, actor, permission)
    context = app_context(request)
    try:
        async with context.sessions() as session, session.begin():
            if action == "acknowledge":
                await actions.acknowledge(
                    session, alert_id=alert_id, actor=actor, clock=context.clock, note=note
                )
            elif action == "resolve":
                await actions.resolve(session, alert_id=alert_id, actor=actor, clock=context.clock, note=note)
            elif action == "note":
                await actions.add_note(
                    session, alert_id=alert_id, actor=actor, clock=context.clock, text=note
                )
            else:
                await run_response_action(
                    request,
                    session,
                    action=action,
                    alert_id=alert_id,
                    actor=actor,
                    note=note or None,
                    duration=str(form.get("duration") or ""),
                    assignee=str(form.get("assignee") or ""),
                )
    except NotFoundError:
        return await _detail(request, actor, alert_id, "alert_detail.html")
    except (ConflictError, UsageError) as exc:
        code = 409 if isinstance(exc, ConflictError) else 422
        return await _detail(
            request, actor, alert_id, "alert_detail.html", status_code=code, action_error=exc.user_message
        )
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)
