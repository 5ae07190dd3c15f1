"""The forms of an incident's page that change the incident itself: record an output, reclassify, link
alerts, advance the phase, assign a role, add a note, add a task or mark it done, close. Each posts to its
own route behind its own permission (``incidents.manage``); the incident services do the work in one
transaction with its audit entry, and a refusal comes back on the page with the service's message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from fictra.api.context import AppContext
from fictra.api.deps import app_context, guarded
from fictra.api.errors import status_for
from fictra.auth.actor import Actor
from fictra.errors import FictraError, UsageError
from fictra.incidents import outputs, roles, service, tasks
from fictra.incidents.queries import get_incident
from fictra.web.access import ConsoleRoute, SignedIn
from fictra.web.incidents.common import incidents_config
from fictra.web.incidents.detail import render_detail

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)

Step = Callable[[AsyncSession, Actor, FormData, AppContext], Awaitable[None]]


async def act(
    request: Request, actor: Actor, incident_id: int, done: str, step: Step, *, section: str
) -> Response:
    """Run one form's ``step`` in a transaction; back to the incident page (303) or the page again with
    the service's refusal (its status: :func:`fictra.api.errors.status_for`, as the API answers it)."""
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
            status_code=status_for(exc),
            error=exc.user_message,
            section=section,
        )
    return RedirectResponse(f"/incidents/{incident_id}?done={done}#{section}", status_code=303)


@router.post("/incidents/{incident_id}/outputs", **guarded("incidents.manage"))
async def record_output(request: Request, incident_id: int, actor: SignedIn) -> Response:
    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        await outputs.record_output(
            session,
            incident_id=incident_id,
            key=str(form.get("key") or ""),
            text=str(form.get("text") or ""),
            actor=actor,
            clock=ctx.clock,
            not_required=form.get("not_required") in ("1", "on", "true"),
        )

    return await act(request, actor, incident_id, "output", step, section="outputs")


@router.post("/incidents/{incident_id}/classification", **guarded("incidents.manage"))
async def reclassify(request: Request, incident_id: int, actor: SignedIn) -> Response:
    """Severity and/or category changed after triage (only what differs from the incident's)."""

    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        current = await get_incident(session, incident_id)
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
            config=incidents_config(ctx),
        )

    return await act(request, actor, incident_id, "classification", step, section="incident")


@router.post("/incidents/{incident_id}/alerts", **guarded("incidents.manage"))
async def link_alerts(request: Request, incident_id: int, actor: SignedIn) -> Response:
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

    return await act(request, actor, incident_id, "alerts", step, section="incident")


@router.post("/incidents/{incident_id}/advance", **guarded("incidents.manage"))
async def advance(request: Request, incident_id: int, actor: SignedIn) -> Response:
    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        await service.advance(
            session,
            incident_id=incident_id,
            to_phase=str(form.get("to_phase") or ""),
            actor=actor,
            clock=ctx.clock,
            note=str(form.get("note") or "") or None,
        )

    return await act(request, actor, incident_id, "advance", step, section="outputs")


@router.post("/incidents/{incident_id}/roles", **guarded("incidents.manage"))
async def assign_role(request: Request, incident_id: int, actor: SignedIn) -> Response:
    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        await roles.assign_role(
            session,
            incident_id=incident_id,
            role=str(form.get("role") or ""),
            username=str(form.get("username") or ""),
            actor=actor,
            clock=ctx.clock,
            remove=form.get("remove") in ("1", "on", "true"),
        )

    return await act(request, actor, incident_id, "role", step, section="roles")


@router.post("/incidents/{incident_id}/notes", **guarded("incidents.manage"))
async def add_note(request: Request, incident_id: int, actor: SignedIn) -> Response:
    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        await service.add_note(
            session, incident_id=incident_id, text=str(form.get("text") or ""), actor=actor, clock=ctx.clock
        )

    return await act(request, actor, incident_id, "note", step, section="timeline")


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


@router.post("/incidents/{incident_id}/tasks", **guarded("incidents.manage"))
async def add_task(request: Request, incident_id: int, actor: SignedIn) -> Response:
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

    return await act(request, actor, incident_id, "task", step, section="tasks")


@router.post("/incidents/{incident_id}/tasks/{task_id}/done", **guarded("incidents.manage"))
async def task_done(request: Request, incident_id: int, task_id: int, actor: SignedIn) -> Response:
    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        await tasks.update_task(
            session, incident_id=incident_id, task_id=task_id, actor=actor, clock=ctx.clock, status="done"
        )

    return await act(request, actor, incident_id, "task_done", step, section="tasks")


@router.post("/incidents/{incident_id}/close", **guarded("incidents.manage"))
async def close(request: Request, incident_id: int, actor: SignedIn) -> Response:
    async def step(session: AsyncSession, actor: Actor, form: FormData, ctx: AppContext) -> None:
        await service.close(
            session,
            incident_id=incident_id,
            actor=actor,
            clock=ctx.clock,
            note=str(form.get("note") or "") or None,
        )

    return await act(request, actor, incident_id, "close", step, section="outputs")
