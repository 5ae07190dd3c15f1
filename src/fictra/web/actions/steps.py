"""The steps on one action: approve (``actions.approve``), dry run and execute (``actions.execute``),
amend and cancel (``actions.propose``). The emergency services decide whose approval counts and refuse
with a message the page shows as it is. Execution runs in the platform's
:class:`~fictra.emergency.runner.ActionRunner`; without a running platform the page says so."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fictra.api.context import AppContext
from fictra.api.deps import app_context, guarded
from fictra.api.errors import status_for
from fictra.auth.actor import Actor
from fictra.emergency import service
from fictra.emergency.types import ActionView
from fictra.errors import ConflictError, FictraError
from fictra.web.access import ConsoleRoute, SignedIn
from fictra.web.actions.common import no_runner, parse_params, runner_of
from fictra.web.actions.detail import render_detail

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
log = logging.getLogger(__name__)


async def dry_run_quietly(request: Request, action_id: int, actor: Actor) -> None:
    """The first dry run right after proposing; a failure here is shown by the action page (no dry run,
    or its failed result), never as an error of the proposal itself."""
    runner = runner_of(request)
    if runner is None:
        return
    try:
        await runner.dry_run(action_id, actor=actor)
    except FictraError as exc:
        log.info("dry run of action %s after proposing: %s", action_id, exc.user_message)


async def _act_on(request: Request, actor: Actor, action_id: int, verb: str) -> Response:
    form = await request.form()
    context = app_context(request)
    try:
        if verb == "approved":
            async with context.sessions() as session, session.begin():
                await service.approve(
                    session,
                    action_id=action_id,
                    actor=actor,
                    clock=context.clock,
                    params_hash=str(form.get("params_hash") or ""),
                )
        elif verb == "amended":
            async with context.sessions() as session, session.begin():
                await service.amend(
                    session,
                    action_id=action_id,
                    params=parse_params(str(form.get("params") or "")),
                    actor=actor,
                    clock=context.clock,
                    reason=str(form.get("reason") or "").strip() or None,
                )
            await dry_run_quietly(request, action_id, actor)
        elif verb == "cancelled":
            async with context.sessions() as session, session.begin():
                await service.cancel(
                    session,
                    action_id=action_id,
                    actor=actor,
                    clock=context.clock,
                    reason=str(form.get("reason") or "").strip() or None,
                )
        elif verb == "dry_run":
            await _known(context, action_id)
            runner = runner_of(request)
            if runner is None:
                raise no_runner()
            await runner.dry_run(action_id, actor=actor)
        else:
            await _execute(request, action_id, actor, str(form.get("params_hash") or ""))
    except FictraError as exc:
        return await render_detail(
            request, actor, action_id, status_code=status_for(exc), error=exc.user_message
        )
    return RedirectResponse(f"/actions/{action_id}?done={verb}", status_code=303)


async def _known(context: AppContext, action_id: int) -> ActionView:
    async with context.sessions() as session:
        return await service.get_action(session, action_id, clock=context.clock)


async def _execute(request: Request, action_id: int, actor: Actor, seen_hash: str) -> None:
    """Execute the parameters the page showed: the runner checks the approvals and the dry run, opens
    the signer's keystore, marks the action executing and returns; its platform task then sends, tracks
    and verifies while the page follows live (tracking takes blocks, a request should not wait for them).
    Every refusal comes back as the service's message."""
    context = app_context(request)
    action = await _known(context, action_id)
    if seen_hash and seen_hash != action.params_hash:
        raise ConflictError(
            f"Action {action_id}'s parameters changed since you loaded the page (hash {seen_hash[:12]} -> "
            f"{action.params_hash[:12]}); review them and their dry run again."
        )
    runner = runner_of(request)
    if runner is None:
        if action.status in ("proposed", "approved"):
            async with context.sessions() as session:
                row = await service.load_action(session, action_id)
                await service.require_approved(session, row, clock=context.clock)
        raise no_runner()
    await runner.execute(action_id, actor, wait=False)


@router.post("/actions/{action_id}/approve", **guarded("actions.approve"))
async def approve(request: Request, action_id: int, actor: SignedIn) -> Response:
    return await _act_on(request, actor, action_id, "approved")


@router.post("/actions/{action_id}/dry-run", **guarded("actions.execute"))
async def dry_run(request: Request, action_id: int, actor: SignedIn) -> Response:
    return await _act_on(request, actor, action_id, "dry_run")


@router.post("/actions/{action_id}/execute", **guarded("actions.execute"))
async def execute(request: Request, action_id: int, actor: SignedIn) -> Response:
    return await _act_on(request, actor, action_id, "executing")


@router.post("/actions/{action_id}/amend", **guarded("actions.propose"))
async def amend(request: Request, action_id: int, actor: SignedIn) -> Response:
    """New parameters for an open action: a new hash, so earlier approvals and the dry run stop counting
    (a fresh dry run follows at once when the runner is here)."""
    return await _act_on(request, actor, action_id, "amended")


@router.post("/actions/{action_id}/cancel", **guarded("actions.propose"))
async def cancel(request: Request, action_id: int, actor: SignedIn) -> Response:
    return await _act_on(request, actor, action_id, "cancelled")
