"""One incident's page: its phase steps, the outputs each phase requires (the current phase's with a form
to record each), roles, notes, corrective-action tasks, communications, evidence, the emergency actions
linked to it, the live timeline and the report links. The forms post to :mod:`.forms` and
:mod:`.outreach`, which come back here with a flash or the service's refusal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.api.deps import app_context, guarded
from fictra.api.routes.incidents import incidents_context
from fictra.auth.actor import Actor
from fictra.errors import ConflictError, NotFoundError
from fictra.incidents import evidence
from fictra.incidents.phases import PHASES, Phase, next_phase, output_spec
from fictra.incidents.queries import get_incident
from fictra.incidents.schemas import IncidentView
from fictra.web.access import ConsoleRoute, SignedIn, error_page, page
from fictra.web.incidents.common import PHASE_TITLES, aware, templating

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
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
    "recovery": "Recovery ran: every step passed (its evidence is on the timeline).",
    "recovery_failed": "Recovery ran: a step FAILED (see the timeline for which and why).",
}


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
                {"o": o, "may_skip": bool(spec and spec.may_skip), "derived": bool(spec and spec.derived)}
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


# the timeline's tabs: (key, title, the kinds it shows; None: all)
TIMELINE_TABS: tuple[tuple[str, str, frozenset[str] | None], ...] = (
    ("all", "All", None),
    ("notes", "Notes", frozenset({"incident.note"})),
    ("phases", "Phases & outputs", frozenset({
        "incident.declared", "incident.phase", "incident.output", "incident.classified", "incident.role",
        "incident.task", "incident.closed",
    })),
    ("actions", "Actions & transactions", None),  # every action.* event
    ("alerts", "Alerts & evidence", frozenset({"incident.alerts_linked", "incident.evidence"})),
    ("comms", "Communications", frozenset({
        "incident.status_update", "incident.reminder", "incident.meeting", "incident.report",
    })),
)  # fmt: skip


def timeline_tab(items: list[Any], show: str) -> list[Any]:
    """The items of one tab (``all`` for an unknown key)."""
    kinds = next((k for key, _, k in TIMELINE_TABS if key == show), None)
    if show == "actions":
        return [i for i in items if i.kind.startswith("action.")]
    if show == "alerts":
        return [i for i in items if i.kind.startswith("alert.") or (kinds is not None and i.kind in kinds)]
    if kinds is None:
        return items
    return [i for i in items if i.kind in kinds]


TIMELINE_LIMIT = 12  # newest entries shown (plus the first one, the declaration) until "show all"
# the collapsed sections a current-phase missing output is done in, and the form each ``done`` key posts from
SECTION_OF_OUTPUT = {
    "team_activation": "roles",
    "initial_notification": "comms",
    "ongoing_communication": "comms",
    "corrective_actions": "tasks",
}
SECTION_OF_DONE = {
    "role": "roles",
    "update": "comms",
    "meeting": "comms",
    "task": "tasks",
    "task_done": "tasks",
    "evidence": "evidence",
}


def bounded_timeline(
    items: list[Any], *, everything: bool, limit: int = TIMELINE_LIMIT
) -> tuple[list[Any], int, int]:
    """The entries shown (time order), how many were left out and where the gap is (index in the shown
    list): the newest ``limit`` and, before them, the declaration (it anchors the story), unless
    ``everything``."""
    if everything or len(items) <= limit:
        return items, 0, -1
    tail = items[-limit:]
    declared = next((i for i in items[:-limit] if i.kind == "incident.declared"), None)
    head = [declared] if declared is not None else []
    return [*head, *tail], len(items) - limit - len(head), len(head)


def open_sections(incident: Any, done: str | None, error_section: str | None) -> set[str]:
    """The collapsed sections shown open: the one the last form posted from (its flash or refusal is there)
    and those holding what the current phase still waits for (assign roles, send the update...)."""
    opened: set[str] = set()
    if incident.status == "open":
        missing = [o for o in incident.outputs if o.phase == incident.phase and o.status == "missing"]
        opened = {SECTION_OF_OUTPUT[o.key] for o in missing if o.key in SECTION_OF_OUTPUT}
    if done in SECTION_OF_DONE:
        opened.add(SECTION_OF_DONE[done])
    if error_section:
        opened.add(error_section)
    return opened


def _waits_for(incident: Any, upcoming: Phase | None) -> list[str]:
    """What the incident waits for before its next phase: the current phase's missing outputs."""
    if incident.status != "open":
        return []
    missing = [o.title for o in incident.outputs if o.phase == incident.phase and o.status == "missing"]
    if not missing and upcoming is not None and upcoming != Phase.CLOSED:
        return [f"nothing: it can move on to {PHASE_TITLES.get(upcoming.value, upcoming.value)}"]
    return missing


async def _detail_data(request: Request, session: AsyncSession, incident_id: int) -> dict[str, Any]:
    from fictra.emergency.service import list_actions
    from fictra.incidents.timeline import timeline

    context = app_context(request)
    incident = await get_incident(session, incident_id)
    upcoming = next_phase(incident.phase)
    items = await timeline(session, incident_id, actions=incidents_context(request).actions)
    show = request.query_params.get("show") or "all"
    show = show if any(key == show for key, _, _ in TIMELINE_TABS) else "all"
    actions = await list_actions(session, incident_id=incident_id, limit=100, clock=context.clock)
    everything = request.query_params.get("all") == "1"
    ordered = sorted(items, key=lambda t: aware(t.at))
    shown, hidden, gap_at = bounded_timeline(timeline_tab(ordered, show), everything=everything)
    comms_kinds = next(k for key, _, k in TIMELINE_TABS if key == "comms") or frozenset()
    return {
        "incident": incident,
        "steps": _phase_steps(incident),
        "output_groups": _outputs_by_phase(incident),
        "next_phase": upcoming.value if upcoming is not None and upcoming != Phase.CLOSED else None,
        "timeline": shown,
        "timeline_hidden": hidden,
        "timeline_gap_at": gap_at,
        "timeline_tab_count": len(shown) + hidden,
        "timeline_everything": everything,
        "timeline_all": len(items),
        "comms_count": sum(1 for i in ordered if i.kind in comms_kinds),
        "show": show,
        "TIMELINE_TABS": TIMELINE_TABS,
        "waits_for": _waits_for(incident, upcoming),
        "actions": actions,
        "evidence": await _evidence(session, incident_id),
        "users": await _usernames(session),
        "comms": _comms(),
        "action_kinds": _action_kinds(),
        **templating(),
    }


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


def _comms() -> dict[str, Any]:
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
    """The incident page (or its ``template`` part); with ``error``, the refusal shown at ``section``."""
    context = app_context(request)
    try:
        async with context.sessions() as session:
            data = await _detail_data(request, session, incident_id)
    except NotFoundError as exc:
        return error_page(request, exc, page_name="incidents", heading="No such incident")
    done = request.query_params.get("done")
    data["open_sections"] = open_sections(data["incident"], done, section)
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


@router.get("/incidents/{incident_id}", **guarded("incidents.read"))
async def incident_page(request: Request, incident_id: int, actor: SignedIn) -> Response:
    return await render_detail(request, actor, incident_id)


@router.get("/ui/incidents/{incident_id}/timeline", **guarded("incidents.read"))
async def timeline_fragment(request: Request, incident_id: int, actor: SignedIn) -> Response:
    return await render_detail(request, actor, incident_id, template="partials/incident_timeline.html")


@router.post("/incidents/{incident_id}/recovery", **guarded("actions.execute"))
async def run_recovery_page(request: Request, incident_id: int, actor: SignedIn) -> Response:
    """The Run recovery button: the system recovery procedure on the running platform (each step on the
    timeline); refused on the page without a platform (409, as the API) or while one runs (409)."""
    from fictra.api.routes.recovery import recover

    platform = app_context(request).platform
    if platform is None:
        return await render_detail(request, actor, incident_id, status_code=409, section="recovery",
                                   error="Recovery needs the running platform (fictra up).")  # fmt: skip
    try:
        report = await recover(platform, incident_id=incident_id, actor=actor)
    except NotFoundError as exc:
        return error_page(request, exc, page_name="incidents", heading="No such incident")
    except ConflictError as exc:
        return await render_detail(
            request, actor, incident_id, status_code=409, section="recovery", error=exc.user_message
        )
    done = "recovery" if report.ok else "recovery_failed"
    return RedirectResponse(f"/incidents/{incident_id}?done={done}#timeline", status_code=303)
