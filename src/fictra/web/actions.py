"""Emergency action pages: the list with the automatic-response policies, and one action with its
parameters and their hash, the approval rule and the approvals so far, the dry run (shown before the
Execute button is enabled), Approve / Dry run / Execute / Cancel, the tracking of its transactions
(submitted -> included -> confirmed -> verified), the verification read back from the chain and the time
from the triggering alert to the confirmed transaction.

Proposing (``actions.propose``), approving (``actions.approve``), dry-running and executing
(``actions.execute``) and proposing a policy change (``policies.manage``) each have their own route and
permission; the emergency services decide whose approval counts and refuse with a message that the page
shows as it is. Execution runs in the platform's :class:`~fictra.emergency.runner.ActionRunner`; without
a running platform (a console on its own) the page says so instead of failing.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.api.context import AppContext
from fictra.api.deps import app_context
from fictra.auth.actor import Actor
from fictra.emergency import service
from fictra.emergency.approvals import canonical_roles
from fictra.emergency.config import EmergencyConfig
from fictra.emergency.definitions import DEFINITIONS, definition
from fictra.emergency.runner import ActionRunner
from fictra.emergency.types import ACTIVE_STATUSES, FINAL_STATUSES, ActionView
from fictra.errors import ConflictError, FictraError, NotFoundError, UsageError
from fictra.web.access import needs, not_found, page
from fictra.web.incidents import as_int, error_status, gate

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)
LIST_LIMIT = 200
STATUSES = (
    "proposed", "approved", "executing", "scheduled", "submitted", "included", "confirmed", "verified",
    "failed", "cancelled",
)  # fmt: skip
TRACK = ("submitted", "included", "confirmed", "verified")


# -- the runner and the config ----------------------------------------------------------------------


def runner_of(request: Request) -> ActionRunner | None:
    """The platform's action runner, found where the emergency API looks (``app.state.emergency_runner``,
    else ``platform.emergency``); None when the console runs without one."""
    found = getattr(request.app.state, "emergency_runner", None)
    if isinstance(found, ActionRunner):
        return found
    platform = app_context(request).platform
    found = getattr(platform, "emergency", None) if platform is not None else None
    return found if isinstance(found, ActionRunner) else None


def _config(request: Request) -> EmergencyConfig:
    """The runner's config when it runs (the one in force), else the config set's (read at start-up)."""
    runner = runner_of(request)
    if runner is not None:
        return runner.config
    return app_context(request).config_set.emergency


def no_runner() -> ConflictError:
    return ConflictError(
        "The action runner is not running here (this console has no platform with emergency actions): "
        "start the platform with `fictra up`, or use `fictra actions ...` on the platform host."
    )


# -- reading ----------------------------------------------------------------------------------------


def tracking(action: ActionView) -> list[dict[str, str]]:
    """The submitted -> included -> confirmed -> verified steps: reached, failed or still ahead."""
    order = list(STATUSES)
    reached = order.index(action.status) if action.status in order[: order.index("verified") + 1] else -1
    if action.status == "failed":  # how far its transactions got before it failed
        tx_states = {t.status for t in action.txs}
        reached = max(
            [order.index(s) for s in ("submitted", "included", "confirmed") if s in tx_states], default=-1
        )
    steps = []
    failed_marked = False
    for step in TRACK:
        if order.index(step) <= reached:
            state = "reached"
        elif action.status == "failed" and not failed_marked:
            state, failed_marked = "failed", True
        else:
            state = "ahead"
        steps.append({"key": step, "state": state})
    return steps


def dry_run_current(action: ActionView) -> bool:
    return action.dry_run is not None and action.dry_run.params_hash == action.params_hash


def execute_blockers(action: ActionView, *, runner: Any | None) -> list[str]:
    """Why Execute is not enabled yet (empty: it is)."""
    problems = []
    if action.status in FINAL_STATUSES or action.status in ACTIVE_STATUSES:
        problems.append(f"the action is {action.status}")
        return problems
    if not action.rule_satisfied:
        problems.append("the approval rule is not satisfied yet")
    if not dry_run_current(action):
        problems.append("no dry run of the current parameters yet")
    elif action.dry_run is not None and not action.dry_run.ok:
        problems.append("the dry run failed")
    if runner is None:
        problems.append("the action runner is not running here")
    return problems


def receipts(action: ActionView) -> dict[str, str]:
    """tx hash -> the receipt's status (success / reverted) from the action's "included" events."""
    out: dict[str, str] = {}
    for event in action.events:
        tx_hash, status = event.details.get("tx_hash"), event.details.get("status")
        if event.kind in ("included", "failed") and isinstance(tx_hash, str) and isinstance(status, str):
            out[tx_hash] = status
    return out


def _already_approved(action: ActionView, actor: Actor) -> bool:
    return any(a.approver == actor.username and a.valid for a in action.approvals)


async def _action_data(
    request: Request, session: AsyncSession, actor: Actor, action_id: int
) -> dict[str, Any]:
    context = app_context(request)
    action = await service.get_action(session, action_id, clock=context.clock)
    rule = service.rule_of(await service.load_action(session, action_id))
    runner = runner_of(request)
    return {
        "approver_roles": rule.roles,
        "may_count": bool(set(canonical_roles(actor.roles)) & set(rule.roles))
        and not (actor.username == action.proposed_by and not rule.proposer_counts),
        "action": action,
        "defn": definition(action.kind),
        "steps": tracking(action),
        "receipts": receipts(action),
        "dry_current": dry_run_current(action),
        "blockers": execute_blockers(action, runner=runner),
        "already_approved": _already_approved(action, actor),
        "is_open": action.status in ("proposed", "approved"),
        "has_runner": runner is not None,
        "has_params": bool(definition(action.kind).params.model_fields),
        "pretty": pretty,
    }


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


async def _detail(
    request: Request,
    actor: Actor,
    action_id: int,
    *,
    template: str = "action_detail.html",
    status_code: int = 200,
    error: str | None = None,
    live: bool = False,
) -> Response:
    """The action page (or, ``live``, its polled part: answered with 286 once the action is final, so
    htmx swaps that last state in and stops polling)."""
    context = app_context(request)
    try:
        async with context.sessions() as session:
            data = await _action_data(request, session, actor, action_id)
    except NotFoundError as exc:
        return not_found(
            request, actor, page_name="actions", heading="No such action", message=exc.user_message
        )
    done = request.query_params.get("done")
    if live and data["action"].status in FINAL_STATUSES:
        status_code = 286
    return page(
        request,
        actor,
        template,
        status_code=status_code,
        page="actions",
        action_error=error,
        flash=DONE.get(done or "") if error is None else None,
        **data,
    )


DONE = {
    "proposed": "Action proposed.",
    "approved": "Approval recorded.",
    "dry_run": "Dry run done against the current chain state.",
    "executing": "Execution started: the transactions are signed and sent; this page follows them.",
    "cancelled": "Action cancelled.",
    "amended": "Parameters changed: earlier approvals no longer count; approve the new ones.",
}


async def _policies(session: AsyncSession, request: Request) -> tuple[list[dict[str, Any]], str | None]:
    """Each configured automatic-response policy with its state (off until an approved policy_enable)."""
    from fictra.emergency.models import EmergencyAction, ResponsePolicyState

    try:
        config = _config(request)
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


@router.get("/actions", **needs("actions.read"))
async def actions_page(request: Request) -> Response:
    actor = await gate(request, "actions.read")
    if not isinstance(actor, Actor):
        return actor
    return await _list(request, actor, "actions.html", flash=_list_flash(request))


def _list_flash(request: Request) -> str | None:
    proposed = as_int(request.query_params.get("policy_action"))
    return (
        f"Policy change proposed as action {proposed}; it takes effect once approved." if proposed else None
    )


@router.get("/ui/actions", **needs("actions.read"))
async def actions_fragment(request: Request) -> Response:
    actor = await gate(request, "actions.read")
    if not isinstance(actor, Actor):
        return actor
    return await _list(request, actor, "partials/action_table.html")


@router.get("/actions/{action_id}", **needs("actions.read"))
async def action_page(request: Request, action_id: int) -> Response:
    actor = await gate(request, "actions.read")
    if not isinstance(actor, Actor):
        return actor
    return await _detail(request, actor, action_id)


@router.get("/ui/actions/{action_id}", **needs("actions.read"))
async def action_fragment(request: Request, action_id: int) -> Response:
    actor = await gate(request, "actions.read")
    if not isinstance(actor, Actor):
        return actor
    return await _detail(request, actor, action_id, template="partials/action_live.html", live=True)


# -- acting -----------------------------------------------------------------------------------------


def parse_params(text: str) -> dict[str, Any]:
    raw = text.strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"Parameters '{raw[:60]}' are not JSON ({exc.msg} at character {exc.pos}); "
            'write an object such as {"endpoint": "node1"}, or leave them empty.'
        ) from None
    if not isinstance(value, dict):
        raise UsageError(f"Parameters must be a JSON object ({{...}}), not {type(value).__name__}.")
    return value


@router.post("/actions", **needs("actions.propose"))
async def propose(request: Request) -> Response:
    """Propose an action (from an incident page or the actions page), then dry-run it at once when the
    runner is here, so the approvers see its effect; back to the form's page with the refusal otherwise."""
    actor = await gate(request, "actions.propose")
    if not isinstance(actor, Actor):
        return actor
    form = await request.form()
    context = app_context(request)
    incident_id = as_int(form.get("incident_id"))
    try:
        config = _config(request)
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
            from fictra.web import incidents

            return await incidents.render_detail(
                request,
                actor,
                incident_id,
                status_code=error_status(exc),
                error=exc.user_message,
                section="actions",
            )
        return await _list(
            request,
            actor,
            "actions.html",
            status_code=error_status(exc),
            flash=exc.user_message,
            flash_kind="error",
        )
    await _dry_run_quietly(request, view.id, actor)
    return RedirectResponse(f"/actions/{view.id}?done=proposed", status_code=303)


async def _dry_run_quietly(request: Request, action_id: int, actor: Actor) -> None:
    """The first dry run right after proposing; a failure here is shown by the action page (no dry run,
    or its failed result), never as an error of the proposal itself."""
    runner = runner_of(request)
    if runner is None:
        return
    try:
        await runner.dry_run(action_id, actor=actor)
    except FictraError as exc:
        log.info("dry run of action %s after proposing: %s", action_id, exc.user_message)


async def _act_on(request: Request, action_id: int, permission: str, verb: str) -> Response:
    actor = await gate(request, permission)
    if not isinstance(actor, Actor):
        return actor
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
            await _dry_run_quietly(request, action_id, actor)
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
        return await _detail(request, actor, action_id, status_code=error_status(exc), error=exc.user_message)
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


@router.post("/actions/{action_id}/approve", **needs("actions.approve"))
async def approve(request: Request, action_id: int) -> Response:
    return await _act_on(request, action_id, "actions.approve", "approved")


@router.post("/actions/{action_id}/dry-run", **needs("actions.execute"))
async def dry_run(request: Request, action_id: int) -> Response:
    return await _act_on(request, action_id, "actions.execute", "dry_run")


@router.post("/actions/{action_id}/execute", **needs("actions.execute"))
async def execute(request: Request, action_id: int) -> Response:
    return await _act_on(request, action_id, "actions.execute", "executing")


@router.post("/actions/{action_id}/amend", **needs("actions.propose"))
async def amend(request: Request, action_id: int) -> Response:
    """New parameters for an open action: a new hash, so earlier approvals and the dry run stop counting
    (a fresh dry run follows at once when the runner is here)."""
    return await _act_on(request, action_id, "actions.propose", "amended")


@router.post("/actions/{action_id}/cancel", **needs("actions.propose"))
async def cancel(request: Request, action_id: int) -> Response:
    return await _act_on(request, action_id, "actions.propose", "cancelled")


@router.post("/policies/{name}", **needs("policies.manage"))
async def propose_policy_change(request: Request, name: str) -> Response:
    """Propose enabling (``enable=1``) or disabling a policy: itself an action needing approvals."""
    actor = await gate(request, "policies.manage")
    if not isinstance(actor, Actor):
        return actor
    form = await request.form()
    context = app_context(request)
    kind = "policy_enable" if form.get("enable") in ("1", "true", "on") else "policy_disable"
    try:
        config = _config(request)
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
            status_code=error_status(exc),
            flash=exc.user_message,
            flash_kind="error",
        )
    return RedirectResponse(f"/actions/{view.id}?done=proposed", status_code=303)
