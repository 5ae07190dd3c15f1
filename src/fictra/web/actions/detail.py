"""One emergency action's page: its parameters and their hash, the approval rule and the approvals so
far, the dry run (shown before the Execute button is enabled), the tracking of its transactions
(submitted -> included -> confirmed -> verified), the verification read back from the chain and the time
from the triggering alert to the confirmed transaction. ``/ui/actions/{id}`` is its live part."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.api.deps import app_context, guarded
from fictra.auth.actor import Actor
from fictra.emergency import service
from fictra.emergency.approvals import canonical_roles
from fictra.emergency.definitions import definition
from fictra.emergency.types import ACTIVE_STATUSES, FINAL_STATUSES, ActionView
from fictra.errors import NotFoundError
from fictra.web.access import ConsoleRoute, SignedIn, error_page, page
from fictra.web.actions.common import STATUSES, TRACK, runner_of
from fictra.web.evidence import value_rows

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)


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
        "value_rows": value_rows,
    }


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


async def render_detail(
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
        return error_page(request, exc, page_name="actions", heading="No such action")
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


@router.get("/actions/{action_id}", **guarded("actions.read"))
async def action_page(request: Request, action_id: int, actor: SignedIn) -> Response:
    return await render_detail(request, actor, action_id)


@router.get("/ui/actions/{action_id}", **guarded("actions.read"))
async def action_fragment(request: Request, action_id: int, actor: SignedIn) -> Response:
    return await render_detail(request, actor, action_id, template="partials/action_live.html", live=True)
