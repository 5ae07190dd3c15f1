"""The emergency-actions API (prefix /api/v1).

GET  /actions?incident_id=&status=&limit=   actions, newest first                        actions.read
GET  /actions/kinds                         kinds: params JSON schema, approval rule      actions.read
GET  /actions/{id}                          one action: approvals, dry run, txs, timeline actions.read
POST /actions                               {"kind","params","incident_id","reason",...}  actions.propose
                                            + the kind's own permission (policies.manage for policy kinds)
POST /actions/{id}/amend                    {"params","reason"} (earlier approvals lapse) actions.propose
POST /actions/{id}/approve                  {"params_hash"} (what the approver saw)       actions.approve
POST /actions/{id}/dry-run                  simulate against current state                actions.execute
POST /actions/{id}/execute                  {"wait": true} sign, send, track, verify      actions.execute
POST /actions/{id}/cancel                   {"reason"}                                    actions.propose
GET  /response-policies                     automatic-response policies and their state   actions.read
POST /response-policies/{name}/enable       proposes a policy_enable action               policies.manage
POST /response-policies/{name}/disable      proposes a policy_disable action              policies.manage

Dry run and execute need the action runner of the running platform (``fictra up``); without one they
answer 409 saying so. Approval refusals are 409 with the reason (wrong role, twice, expired, changed).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from fictra.api.deps import DbSession, guarded
from fictra.auth.deps import Actor, current_actor
from fictra.emergency import service
from fictra.emergency.config import EmergencyConfig
from fictra.emergency.definitions import DEFINITIONS, definition
from fictra.emergency.policies import PolicyView, list_policies
from fictra.emergency.runner import ActionRunner
from fictra.emergency.types import ActionView, DryRunView
from fictra.errors import ConflictError

router = APIRouter(prefix="/api/v1", tags=["actions"])
CurrentActor = Annotated[Actor, Depends(current_actor)]


def emergency_config(request: Request) -> EmergencyConfig:
    runner = _runner_or_none(request)
    if runner is not None:
        return runner.config
    loaded: EmergencyConfig = request.app.state.context.config_set.emergency
    return loaded


def _runner_or_none(request: Request) -> ActionRunner | None:
    found = getattr(request.app.state, "emergency_runner", None)
    if isinstance(found, ActionRunner):
        return found
    platform = request.app.state.context.platform
    found = getattr(platform, "emergency", None) if platform is not None else None
    return found if isinstance(found, ActionRunner) else None


def action_runner(request: Request) -> ActionRunner:
    runner = _runner_or_none(request)
    if runner is None:
        raise ConflictError(
            "No action runner in this process: dry runs and execution happen in the running platform "
            "(`fictra up`), which signs with the configured keystores."
        )
    return runner


Config = Annotated[EmergencyConfig, Depends(emergency_config)]
Runner = Annotated[ActionRunner, Depends(action_runner)]


class KindView(BaseModel):
    kind: str
    title: str
    description: str
    permission: str  # needed to propose it, on every route
    proposers: list[str]
    approval: dict[str, Any]
    signer: str
    mode: str
    params_schema: dict[str, Any]


class ProposeBody(BaseModel):
    kind: str = Field(min_length=1, max_length=64)
    params: dict[str, Any] = Field(default_factory=dict)
    incident_id: int | None = None
    trigger_alert_id: int | None = None
    reason: str | None = Field(default=None, max_length=4000)


class AmendBody(BaseModel):
    params: dict[str, Any]
    reason: str | None = Field(default=None, max_length=4000)


class ApproveBody(BaseModel):
    params_hash: str = Field(min_length=64, max_length=64, description="The params hash you reviewed.")


class ExecuteBody(BaseModel):
    wait: bool = Field(default=True, description="Return once verified/failed/scheduled (else at once).")


class ReasonBody(BaseModel):
    reason: str | None = Field(default=None, max_length=4000)


@router.get("/actions", summary="List emergency actions", **guarded("actions.read"))
async def actions_list(
    session: DbSession,
    request: Request,
    incident_id: int | None = None,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ActionView]:
    clock = request.app.state.context.clock
    return await service.list_actions(
        session, incident_id=incident_id, status=status, limit=limit, clock=clock
    )


@router.get("/actions/kinds", summary="Action kinds and their rules", **guarded("actions.read"))
async def actions_kinds(config: Config) -> list[KindView]:
    out = []
    for kind in DEFINITIONS:
        d = definition(kind, config.rules)
        out.append(
            KindView(
                kind=kind,
                title=d.title,
                description=d.description,
                permission=d.permission,
                proposers=list(d.proposers),
                approval=d.rule.as_dict(),
                signer=d.signer,
                mode=d.mode,
                params_schema=d.schema(),
            )
        )
    return out


@router.get("/actions/{action_id}", summary="One action", **guarded("actions.read"))
async def actions_show(session: DbSession, request: Request, action_id: int) -> ActionView:
    return await service.get_action(session, action_id, clock=request.app.state.context.clock)


def _on_event(request: Request) -> service.OnEvent | None:
    runner = _runner_or_none(request)
    return runner.on_event if runner is not None else None


@router.post("/actions", summary="Propose an action", status_code=201, **guarded("actions.propose"))
async def actions_propose(
    session: DbSession, request: Request, actor: CurrentActor, config: Config, body: ProposeBody
) -> ActionView:
    return await service.propose(
        session, kind=body.kind, params=body.params, actor=actor, clock=request.app.state.context.clock,
        incident_id=body.incident_id, reason=body.reason, trigger_alert_id=body.trigger_alert_id,
        rules=config.rules, on_event=_on_event(request),
    )  # fmt: skip


@router.post("/actions/{action_id}/amend", summary="Change the parameters", **guarded("actions.propose"))
async def actions_amend(
    session: DbSession, request: Request, actor: CurrentActor, action_id: int, body: AmendBody
) -> ActionView:
    return await service.amend(
        session, action_id=action_id, params=body.params, actor=actor, clock=request.app.state.context.clock,
        reason=body.reason, on_event=_on_event(request),
    )  # fmt: skip


@router.post("/actions/{action_id}/approve", summary="Approve", **guarded("actions.approve"))
async def actions_approve(
    session: DbSession, request: Request, actor: CurrentActor, action_id: int, body: ApproveBody
) -> ActionView:
    return await service.approve(
        session, action_id=action_id, actor=actor, clock=request.app.state.context.clock,
        params_hash=body.params_hash, on_event=_on_event(request),
    )  # fmt: skip


@router.post("/actions/{action_id}/cancel", summary="Cancel", **guarded("actions.propose"))
async def actions_cancel(
    session: DbSession, request: Request, actor: CurrentActor, action_id: int, body: ReasonBody | None = None
) -> ActionView:
    return await service.cancel(
        session, action_id=action_id, actor=actor, clock=request.app.state.context.clock,
        reason=body.reason if body else None, on_event=_on_event(request),
    )  # fmt: skip


@router.post("/actions/{action_id}/dry-run", summary="Simulate now", **guarded("actions.execute"))
async def actions_dry_run(runner: Runner, actor: CurrentActor, action_id: int) -> DryRunView:
    return await runner.dry_run(action_id, actor=actor)


@router.post("/actions/{action_id}/execute", summary="Execute", **guarded("actions.execute"))
async def actions_execute(
    runner: Runner, actor: CurrentActor, action_id: int, body: ExecuteBody | None = None
) -> ActionView:
    return await runner.execute(action_id, actor, wait=body.wait if body else True)


@router.get("/response-policies", summary="Automatic-response policies", **guarded("actions.read"))
async def policies_list(session: DbSession, config: Config) -> list[PolicyView]:
    return await list_policies(session, config)


async def _propose_policy(
    session: DbSession, request: Request, actor: Actor, config: EmergencyConfig, name: str, kind: str,
    reason: str | None,
) -> ActionView:  # fmt: skip
    config.policy(name)  # 404 naming the known policies
    return await service.propose(
        session, kind=kind, params={"policy": name}, actor=actor, clock=request.app.state.context.clock,
        reason=reason, rules=config.rules, on_event=_on_event(request),
    )  # fmt: skip


@router.post(
    "/response-policies/{name}/enable",
    summary="Propose enabling",
    status_code=201,
    **guarded("policies.manage"),
)
async def policies_enable(
    session: DbSession, request: Request, actor: CurrentActor, config: Config, name: str,
    body: ReasonBody | None = None,
) -> ActionView:  # fmt: skip
    return await _propose_policy(
        session, request, actor, config, name, "policy_enable", body.reason if body else None
    )


@router.post(
    "/response-policies/{name}/disable",
    summary="Propose disabling",
    status_code=201,
    **guarded("policies.manage"),
)
async def policies_disable(
    session: DbSession, request: Request, actor: CurrentActor, config: Config, name: str,
    body: ReasonBody | None = None,
) -> ActionView:  # fmt: skip
    return await _propose_policy(
        session, request, actor, config, name, "policy_disable", body.reason if body else None
    )
