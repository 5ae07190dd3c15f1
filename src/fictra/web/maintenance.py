"""Maintenance window pages: the windows (open by default, a filter by state) with a New window form
(scheduled with an optional RRULE in a zone, or emergency: starts now), and one window with its
schedule (RRULE, zone, the current and next occurrence), scope, owner (a person, and the change that owns
it), the alerts it held and how each ended, its events, the "Maintenance Logs" document (HTML) and the
forms that work it (``maintenance.manage``): add a step/action/note, mark done, end now, cancel."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fictra.api.deps import app_context, guarded
from fictra.api.errors import status_for
from fictra.api.routes.maintenance import maintenance_config
from fictra.auth.actor import Actor
from fictra.errors import FictraError, NotFoundError, UsageError
from fictra.maintenance.log import render_html
from fictra.maintenance.queries import get_window, list_windows
from fictra.maintenance.service import (
    ENTRY_KINDS,
    add_entry,
    cancel_window,
    create_window,
    end_window,
    mark_done,
)
from fictra.web.access import ConsoleRoute, SignedIn, error_page, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
WindowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FILTERS = ("open", "scheduled", "active", "ended", "canceled", "all")
STATE_CLASS = {"scheduled": "label", "active": "warn", "ended": "ok", "canceled": "muted"}
OUTCOME_CLASS = {"held": "warn", "released": "bad", "dropped": "ok"}
PAGE: dict[str, Any] = {"page": "changes", "STATE_CLASS": STATE_CLASS, "OUTCOME_CLASS": OUTCOME_CLASS}


FORM_FIELDS = (
    "title",
    "scope",
    "owner",
    "start",
    "duration",
    "timezone",
    "rrule",
    "emergency",
    "description",
)


async def _list_page(
    request: Request, actor: Actor, *, form: dict[str, str] | None = None, new_error: str | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    wanted = (request.query_params.get("state") or "open").strip()
    state = wanted if wanted in FILTERS else "open"
    now = app_context(request).clock.now()
    async with app_context(request).sessions() as session:
        rows = await list_windows(session, now=now, state=None if state == "all" else state, limit=500)
    defaults = {"timezone": "UTC", "duration": "60", "owner": actor.username}
    form = form or {**dict.fromkeys(FORM_FIELDS, ""), **defaults}
    return page(
        request, actor, "maintenance.html", status_code=status_code, windows=rows, state=state,
        FILTERS=FILTERS, form=form, new_error=new_error, **PAGE,
    )  # fmt: skip


@router.get("/maintenance", **guarded("maintenance.read"))
async def windows_page(request: Request, actor: SignedIn) -> Response:
    return await _list_page(request, actor)


@router.post("/maintenance", **guarded("maintenance.manage"))
async def windows_create(request: Request, actor: SignedIn) -> Response:
    """The New window form: scheduled (start, duration, zone, optional RRULE) or emergency (starts now);
    the scope one label matcher a line; the start is wall time in the zone."""
    raw = await request.form()
    form = {k: str(raw.get(k) or "").strip() for k in FORM_FIELDS}
    context = app_context(request)
    try:
        emergency = form["emergency"] == "yes"
        if not form["duration"].isdigit() and not (emergency and not form["duration"]):
            raise UsageError(f"Duration '{form['duration'][:20]}' is not a whole number of minutes.")
        start, minutes = None, int(form["duration"]) if form["duration"] else None
        if not emergency:
            try:
                start = datetime.fromisoformat(form["start"]) if form["start"] else None
            except ValueError:
                raise UsageError(f"Start '{form['start'][:40]}' is not a date and time.") from None
        async with context.sessions() as session, session.begin():
            view = await create_window(
                session, title=form["title"], matchers=[m for m in form["scope"].splitlines() if m.strip()],
                owner=form["owner"], actor=actor, clock=context.clock, config=maintenance_config(request),
                starts_at=start, duration=None if minutes is None else timedelta(minutes=minutes),
                timezone=form["timezone"] or "UTC", rrule=form["rrule"] or None, emergency=emergency,
                description=form["description"],
            )  # fmt: skip
    except FictraError as exc:
        return await _list_page(
            request, actor, form=form, new_error=exc.user_message, status_code=status_for(exc)
        )
    return RedirectResponse(f"/maintenance/{view.id}", status_code=303)


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
