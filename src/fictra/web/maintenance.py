"""Maintenance window pages: the windows (open by default, a filter by state) and one window with its
schedule (RRULE, zone, the current and next occurrence), scope, owner (a person, and the change that owns
it), the alerts it held and how each ended, its events, the "Maintenance Logs" document (HTML) and the
forms that work it (``maintenance.manage``): add a step/action/note, mark done, end now, cancel."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fictra.api.deps import app_context, guarded
from fictra.api.errors import status_for
from fictra.auth.actor import Actor
from fictra.errors import FictraError, NotFoundError, UsageError
from fictra.maintenance.log import render_html
from fictra.maintenance.queries import get_window, list_windows
from fictra.maintenance.service import ENTRY_KINDS, add_entry, cancel_window, end_window, mark_done
from fictra.web.access import ConsoleRoute, SignedIn, error_page, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
WindowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FILTERS = ("open", "scheduled", "active", "ended", "canceled", "all")
STATE_CLASS = {"scheduled": "label", "active": "warn", "ended": "ok", "canceled": "muted"}
OUTCOME_CLASS = {"held": "warn", "released": "bad", "dropped": "ok"}
PAGE: dict[str, Any] = {"page": "changes", "STATE_CLASS": STATE_CLASS, "OUTCOME_CLASS": OUTCOME_CLASS}


@router.get("/maintenance", **guarded("maintenance.read"))
async def windows_page(request: Request, actor: SignedIn) -> Response:
    wanted = (request.query_params.get("state") or "open").strip()
    state = wanted if wanted in FILTERS else "open"
    now = app_context(request).clock.now()
    async with app_context(request).sessions() as session:
        rows = await list_windows(session, now=now, state=None if state == "all" else state, limit=500)
    return page(request, actor, "maintenance.html", windows=rows, state=state, FILTERS=FILTERS, **PAGE)


async def _window_page(
    request: Request, actor: Actor, window_id: int, *, status_code: int = 200, action_error: str | None = None
) -> Response:
    now = app_context(request).clock.now()
    try:
        async with app_context(request).sessions() as session:
            found = await get_window(session, window_id=window_id, now=now)
    except NotFoundError as exc:
        return error_page(request, exc, page_name="changes", heading="No such maintenance window")
    return page(
        request, actor, "maintenance_detail.html", status_code=status_code, w=found.window, holds=found.holds,
        events=found.events, ENTRY_KINDS=ENTRY_KINDS, action_error=action_error, **PAGE,
    )  # fmt: skip


@router.get("/maintenance/{window_id}", **guarded("maintenance.read"))
async def window_page(request: Request, window_id: WindowId, actor: SignedIn) -> Response:
    return await _window_page(request, actor, window_id)


@router.get("/maintenance/{window_id}/log", **guarded("maintenance.read"))
async def window_log(request: Request, window_id: WindowId, actor: SignedIn) -> Response:
    """The "Maintenance Logs" template rendered from what happened in the window."""
    now = app_context(request).clock.now()
    try:
        async with app_context(request).sessions() as session:
            html = await render_html(session, window_id=window_id, now=now)
    except NotFoundError as exc:
        return error_page(request, exc, page_name="changes", heading="No such maintenance window")
    return HTMLResponse(html)


@router.post("/maintenance/{window_id}/{what}", **guarded("maintenance.manage"))
async def window_work(request: Request, window_id: WindowId, what: str, actor: SignedIn) -> Response:
    """``what``: entries (``kind``, ``text``), done (``note``), end (``note``), cancel (``reason``)."""
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    clock = app_context(request).clock
    try:
        async with app_context(request).sessions() as session, session.begin():
            if what == "entries":
                await add_entry(
                    session,
                    window_id=window_id,
                    kind=text("kind"),
                    text=text("text"),
                    actor=actor,
                    clock=clock,
                )
            elif what == "done":
                await mark_done(session, window_id=window_id, actor=actor, clock=clock, note=text("note"))
            elif what == "end":
                await end_window(session, window_id=window_id, actor=actor, clock=clock, note=text("note"))
            elif what == "cancel":
                await cancel_window(
                    session, window_id=window_id, actor=actor, clock=clock, reason=text("reason")
                )
            else:
                raise UsageError(f"Unknown maintenance window action '{what}' (entries, done, end, cancel).")
    except NotFoundError as exc:
        return error_page(request, exc, page_name="changes", heading="No such maintenance window")
    except FictraError as exc:
        return await _window_page(
            request, actor, window_id, status_code=status_for(exc), action_error=exc.user_message
        )
    return RedirectResponse(f"/maintenance/{window_id}", status_code=303)
