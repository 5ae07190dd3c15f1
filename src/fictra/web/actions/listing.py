"""The emergency action list with the automatic-response policies, and the proposals made from it:
an action (``actions.propose``, also from an incident page) and a policy change (``policies.manage``,
itself an action needing approvals)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.api.deps import app_context, guarded
from fictra.api.errors import status_for
from fictra.auth.actor import Actor
from fictra.emergency import service
from fictra.emergency.definitions import DEFINITIONS
from fictra.errors import FictraError, UsageError
from fictra.web.access import ConsoleRoute, SignedIn, page
from fictra.web.actions.common import STATUSES, action_config, parse_params
from fictra.web.actions.steps import dry_run_quietly
from fictra.web.incidents.common import as_int

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
LIST_LIMIT = 200


async def _policies(session: AsyncSession, request: Request) -> tuple[list[dict[str, Any]], str | None]:
    """Each configured automatic-response policy with its state (off until an approved policy_enable)."""
    from fictra.emergency.models import EmergencyAction, ResponsePolicyState

    try:
        config = action_config(request)
    except FictraError as exc:
        return [], exc.user_message
    rows = {r.name: r for r in (await session.execute(select(ResponsePolicyState))).scalars()}
    pending = (
        await session.execute(
            select(EmergencyAction).where(
                EmergencyAction.kind.in_(("policy_enable", "policy_disable")),
                EmergencyAction.status.in_(("proposed", "approved", "executing")),
            )
        )
    ).scalars()
    open_by_policy: dict[str, list[EmergencyAction]] = {}
    for p in pending:
        open_by_policy.setdefault(str(p.params.get("policy")), []).append(p)
    out = []
    for name, pol in config.policies.items():
        state = rows.get(name)
        out.append(
            {
                "name": name,
                "description": pol.description,
                "when": pol.when,
                "action": pol.action,
                "params": pol.params,
                "enabled": bool(state and state.enabled),
                "changed_at": state.changed_at if state else None,
                "changed_by": state.changed_by if state else None,
                "pending": open_by_policy.get(name, []),
            }
        )
    return out, None


async def _list(request: Request, actor: Actor, template: str, **extra: Any) -> Response:
    context = app_context(request)
    status = (request.query_params.get("status") or "").strip()
    problem = None
    if status and status not in STATUSES:
        problem = f"Status '{status}' is not one of {', '.join(STATUSES)}."
        status = ""
    async with context.sessions() as session:
        actions = await service.list_actions(
            session, status=status or None, limit=LIST_LIMIT, clock=context.clock
        )
        policies, policy_problem = await _policies(session, request)
    return page(
        request,
        actor,
        template,
        page="actions",
        actions=actions,
        status=status,
        STATUSES=STATUSES,
        problem=problem,
        policies=policies,
        policy_problem=policy_problem,
        truncated=len(actions) >= LIST_LIMIT,
        action_kinds=[d for d in DEFINITIONS.values() if d.mode != "policy"],
        **extra,
    )


@router.get("/actions", **guarded("actions.read"))
async def actions_page(request: Request, actor: SignedIn) -> Response:
    return await _list(request, actor, "actions.html", flash=_list_flash(request))


def _list_flash(request: Request) -> str | None:
    proposed = as_int(request.query_params.get("policy_action"))
    return (
        f"Policy change proposed as action {proposed}; it takes effect once approved." if proposed else None
    )


@router.get("/ui/actions", **guarded("actions.read"))
async def actions_fragment(request: Request, actor: SignedIn) -> Response:
    return await _list(request, actor, "partials/action_table.html")


@router.post("/actions", **guarded("actions.propose"))
async def propose(request: Request, actor: SignedIn) -> Response:
    """Propose an action (from an incident page or the actions page), then dry-run it at once when the
    runner is here, so the approvers see its effect; back to the form's page with the refusal otherwise."""
    form = await request.form()
    context = app_context(request)
    incident_id = as_int(form.get("incident_id"))
    try:
        config = action_config(request)
        params = parse_params(str(form.get("params") or ""))
        kind = str(form.get("kind") or "")
        if kind in ("policy_enable", "policy_disable"):
            raise UsageError("Policy changes are proposed from the policies section (policies.manage).")
        async with context.sessions() as session, session.begin():
            if incident_id is not None:
                from fictra.incidents.service import get_incident

                await get_incident(session, incident_id)  # NotFoundError for an unknown incident
            view = await service.propose(
                session,
                kind=kind,
                params=params,
                actor=actor,
                clock=context.clock,
                incident_id=incident_id,
                reason=str(form.get("reason") or "").strip() or None,
                trigger_alert_id=as_int(form.get("trigger_alert_id")),
                rules=config.rules,
            )
    except FictraError as exc:
        if incident_id is not None:
            from fictra.web.incidents import render_detail

            return await render_detail(
                request,
                actor,
                incident_id,
                status_code=status_for(exc),
                error=exc.user_message,
                section="actions",
            )
        return await _list(
            request,
            actor,
            "actions.html",
            status_code=status_for(exc),
            flash=exc.user_message,
            flash_kind="error",
        )
    await dry_run_quietly(request, view.id, actor)
    return RedirectResponse(f"/actions/{view.id}?done=proposed", status_code=303)


@router.post("/policies/{name}", **guarded("policies.manage"))
async def propose_policy_change(request: Request, name: str, actor: SignedIn) -> Response:
    """Propose enabling (``enable=1``) or disabling a policy: itself an action needing approvals."""
    form = await request.form()
    context = app_context(request)
    kind = "policy_enable" if form.get("enable") in ("1", "true", "on") else "policy_disable"
    try:
        config = action_config(request)
        config.policy(name)  # NotFoundError naming the known policies
        async with context.sessions() as session, session.begin():
            view = await service.propose(
                session,
                kind=kind,
                params={"policy": name},
                actor=actor,
                clock=context.clock,
                reason=str(form.get("reason") or "").strip() or None,
                rules=config.rules,
            )
    except FictraError as exc:
        return await _list(
            request,
            actor,
            "actions.html",
            status_code=status_for(exc),
            flash=exc.user_message,
            flash_kind="error",
        )
    return RedirectResponse(f"/actions/{view.id}?done=proposed", status_code=303)
