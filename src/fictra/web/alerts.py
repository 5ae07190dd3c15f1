"""Alert pages: the filtered list (live), one alert with evidence and timeline (live), and the
Acknowledge / Resolve / Add note form, each shown and accepted only with its permission."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting import actions
from fictra.alerting.models import Alert
from fictra.alerting.queries import get_alert, list_alerts
from fictra.alerting.schemas import AlertView
from fictra.api.deps import app_context, guarded
from fictra.api.errors import status_for
from fictra.auth.actor import Actor
from fictra.auth.deps import authorize
from fictra.errors import ConflictError, NotFoundError, UsageError
from fictra.incidents.models import Incident, IncidentAlert
from fictra.web.access import ConsoleRoute, SignedIn, error_page, page
from fictra.web.escalation import RESPONSE_ACTIONS, SNOOZES, response_for, run_response_action
from fictra.web.evidence import evidence_rows, timeline
from fictra.web.health import AREA_TITLES, area_of
from fictra.web.overview import areas_map
from fictra.web.templating import SEVERITIES

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
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
    incidents: dict[int, list[int]] = {}
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
        alerts = by_severity(alerts)
        async with context.sessions() as session:
            incidents = await incidents_of(session, [a.id for a in alerts])
    return {
        "alerts": alerts,
        "incidents": incidents,
        "filters": filters,
        "any_filter": filters.any(),
        "problem": problem,
        "truncated": truncated,
        "AREA_TITLES": AREA_TITLES,
    }


def by_severity(alerts: list[AlertView]) -> list[AlertView]:
    """P0 first, then P1...; within a severity the most recent first."""
    newest_first = sorted(alerts, key=lambda a: a.last_seen, reverse=True)
    return sorted(newest_first, key=lambda a: a.severity)


async def incidents_of(session: AsyncSession, alert_ids: list[int]) -> dict[int, list[int]]:
    """alert id -> the incidents it is linked to (one query)."""
    if not alert_ids:
        return {}
    rows = await session.execute(
        select(IncidentAlert.alert_id, IncidentAlert.incident_id)
        .where(IncidentAlert.alert_id.in_(alert_ids))
        .order_by(IncidentAlert.incident_id)
    )
    found: dict[int, list[int]] = {}
    for alert_id, incident_id in rows.all():
        found.setdefault(alert_id, []).append(incident_id)
    return found


async def _list(request: Request, actor: Actor, template: str) -> Response:
    data = await _filtered(request, Filters.of(request))
    return page(request, actor, template, page="alerts", **data)


@router.get("/alerts", **guarded("alerts.read"))
async def alerts_page(request: Request, actor: SignedIn) -> Response:
    return await _list(request, actor, "alerts.html")


@router.get("/ui/alerts", **guarded("alerts.read"))
async def alerts_fragment(request: Request, actor: SignedIn) -> Response:
    response = await _list(request, actor, "partials/alerts_table.html")
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
            incidents = (await incidents_of(session, [alert.id])).get(alert.id, [])
    except NotFoundError as exc:
        return error_page(request, exc, page_name="alerts", heading="No such alert")
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
        incidents=incidents,
        SNOOZES=SNOOZES,
        action_error=extra.pop("action_error", None),
        **extra,
    )


MARKER_LIMIT = 200


@router.get("/ui/chart-markers", **guarded("alerts.read"))
async def chart_markers(request: Request, actor: SignedIn, start: int = 0, end: int = 0) -> Response:
    """What the charts mark on their time axis: alerts fired (P0-P2) and incidents declared between the unix
    times ``start`` and ``end`` (seconds), newest last."""
    if end <= start or end - start > 31 * 86400:
        return JSONResponse(
            {"error": "give start < end (unix seconds), at most 31 days apart"}, status_code=422
        )
    since, until = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    context = app_context(request)
    async with context.sessions() as session:
        alerts = await session.execute(
            select(Alert.id, Alert.severity, Alert.summary, Alert.fired_at)
            .where(Alert.fired_at >= since, Alert.fired_at < until, Alert.severity.in_(("P0", "P1", "P2")))
            .order_by(Alert.fired_at.desc())
            .limit(MARKER_LIMIT)
        )
        declared = await session.execute(
            select(Incident.id, Incident.severity, Incident.title, Incident.declared_at)
            .where(Incident.declared_at >= since, Incident.declared_at < until)
            .order_by(Incident.declared_at.desc())
            .limit(MARKER_LIMIT)
        )
        markers = [
            {"t": _unix(at), "kind": "alert", "severity": sev, "label": f"alert #{i} {text}"[:120],
             "href": f"/alerts/{i}"}
            for i, sev, text, at in alerts.all()
        ] + [
            {"t": _unix(at), "kind": "incident", "severity": sev, "label": f"incident #{i} {title}"[:120],
             "href": f"/incidents/{i}"}
            for i, sev, title, at in declared.all()
        ]  # fmt: skip
    return JSONResponse({"markers": sorted(markers, key=lambda m: m["t"])})


def _unix(at: datetime) -> float:
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)).timestamp()


@router.get("/alerts/{alert_id}", **guarded("alerts.read"))
async def alert_page(request: Request, alert_id: int, actor: SignedIn) -> Response:
    return await _detail(request, actor, alert_id, "alert_detail.html")


@router.get("/ui/alerts/{alert_id}", **guarded("alerts.read"))
async def alert_fragment(request: Request, alert_id: int, actor: SignedIn, part: str = "state") -> Response:
    template = "partials/alert_history.html" if part == "history" else "partials/alert_state.html"
    return await _detail(request, actor, alert_id, template)


@router.post("/alerts/{alert_id}/action", **guarded("alerts.read"))
async def alert_action(request: Request, alert_id: int, actor: SignedIn) -> Response:
    """The detail page's form: ``action`` is one of :data:`ACTIONS` (each needs its own permission, on top
    of the declared ``alerts.read``, decided by the same :func:`~fictra.auth.deps.authorize`); ``note`` the
    optional text."""
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
    authorize(actor, permission)  # refused: the console's 403 page
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
        return await _detail(
            request,
            actor,
            alert_id,
            "alert_detail.html",
            status_code=status_for(exc),
            action_error=exc.user_message,
        )
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)
