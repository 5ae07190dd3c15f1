"""Procedure pages: "Today" (every procedure's state: overdue, running, due, done) with the run history,
and one run with its steps, results, evidence and hashes, and a Sign off form on each pending manual step
(shown with ``procedures.signoff``; the step's roles decide, the service's refusal is shown on the page)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fictra.api.deps import app_context, guarded
from fictra.api.errors import status_for
from fictra.api.routes.procedures import procedures_clock, procedures_config
from fictra.auth.actor import Actor
from fictra.errors import ConflictError, NotFoundError, PermissionDeniedError, UsageError
from fictra.procedures.flows import sign_off_at
from fictra.procedures.queries import list_runs, run_detail, today
from fictra.web.access import ConsoleRoute, SignedIn, error_page, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
HISTORY = 50
STATE_CLASS = {
    "overdue": "bad",
    "not_opened": "bad",
    "missed": "bad",
    "failed": "bad",
    "running": "warn",
    "due": "warn",
    "completed": "ok",
}
RESULT_CLASS = {"passed": "ok", "signed": "ok", "reported": "ok", "failed": "bad", "pending": "muted"}


@router.get("/procedures", **guarded("procedures.read"))
async def procedures_page(request: Request, actor: SignedIn) -> Response:
    config, now = procedures_config(request), procedures_clock(request).now()
    procedure = (request.query_params.get("procedure") or "").strip() or None
    async with app_context(request).sessions() as session:
        items = await today(session, config=config, now=now)
        runs = await list_runs(
            session, now=now, procedure=procedure if config.get(procedure or "") else None, limit=HISTORY
        )
    return page(
        request,
        actor,
        "procedures.html",
        page="procedures",
        now=now,
        items=items,
        runs=runs,
        procedure=procedure or "",
        STATE_CLASS=STATE_CLASS,
    )


async def _run_page(
    request: Request, actor: Actor, run_id: int, *, status_code: int = 200, **extra: Any
) -> Response:
    now = procedures_clock(request).now()
    try:
        async with app_context(request).sessions() as session:
            run = await run_detail(session, run_id=run_id, config=procedures_config(request), now=now)
    except NotFoundError as exc:
        return error_page(request, exc, page_name="procedures", heading="No such run")
    return page(
        request,
        actor,
        "procedures_run.html",
        status_code=status_code,
        page="procedures",
        now=now,
        run=run,
        RESULT_CLASS=RESULT_CLASS,
        STATE_CLASS=STATE_CLASS,
        action_error=extra.pop("action_error", None),
        **extra,
    )


@router.get("/procedures/runs/{run_id}", **guarded("procedures.read"))
async def procedure_run_page(request: Request, run_id: int, actor: SignedIn) -> Response:
    return await _run_page(request, actor, run_id)


@router.post("/procedures/runs/{run_id}/steps/{index}/signoff", **guarded("procedures.signoff"))
async def procedure_signoff(request: Request, run_id: int, index: int, actor: SignedIn) -> Response:
    """The run page's Sign off form (``note`` optional): refusals (a role the step does not allow, a run
    already closed) come back on the run page with the service's message and status."""
    form = await request.form()
    note = str(form.get("note") or "").strip() or None
    context = app_context(request)
    try:
        async with context.sessions() as session, session.begin():
            await sign_off_at(
                session,
                run_id=run_id,
                step=index,
                config=procedures_config(request),
                actor=actor,
                note=note,
                clock=procedures_clock(request),
            )
    except NotFoundError as exc:
        return error_page(request, exc, page_name="procedures")
    except (PermissionDeniedError, ConflictError, UsageError) as exc:
        return await _run_page(
            request, actor, run_id, status_code=status_for(exc), action_error=exc.user_message
        )
    return RedirectResponse(f"/procedures/runs/{run_id}", status_code=303)
