"""The system recovery procedure run from an incident (prefix /api/v1/incidents).

POST   /incidents/{id}/recovery   {steps?}: restart, data, restoration, performance      actions.execute

The incident page's "Run recovery" button (web/incidents/detail.py) calls :func:`recover` too.

Runs :func:`fictra.platform.recovery.run_recovery` on the running platform: component restart, data
verification, service restoration, performance validation, each step's result on the incident's
timeline (kind ``recovery``) and in the audit log under the caller's name as it completes; the answer is
the report (200 whether or not every step passed: ``ok`` says). It restarts supervised components, the
effect of the emergency ``restart`` action kind, so it needs ``actions.execute`` (the responders of
config/roles.yaml: technical_lead, system_architect, security_officer, operations_manager). Without the
running platform (the API served apart from ``fictra up``) the answer is 409; an unknown incident 404; a
recovery already running on this platform 409. The request lasts as long as the steps (each waits at
most ``Bounds.wait_s`` for the platform to come back).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, Field

from fictra.api.deps import app_context, guarded
from fictra.audit.canonical import jsonable
from fictra.auth.deps import Actor, current_actor
from fictra.errors import ConflictError
from fictra.platform.recovery import RecoveryReport, run_recovery

if TYPE_CHECKING:
    from fictra.platform.assemble import Platform

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
CurrentActor = Annotated[Actor, Depends(current_actor)]
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="Incident id.")]
StepName = Literal["restart", "data", "restoration", "performance"]
ALL_STEPS: tuple[StepName, ...] = ("restart", "data", "restoration", "performance")
_running: set[int] = set()  # id() of the platforms a recovery runs on now


class RecoveryBody(BaseModel):
    steps: list[StepName] | None = Field(
        default=None,
        min_length=1,
        max_length=4,
        description="The steps to run, in order (default: restart, data, restoration, performance).",
    )


class RecoveryStepView(BaseModel):
    name: str
    ok: bool
    summary: str
    evidence: dict[str, Any]


class RecoveryView(BaseModel):
    incident_id: int
    ok: bool
    steps: list[RecoveryStepView]

    @classmethod
    def of(cls, report: RecoveryReport) -> RecoveryView:
        return cls(
            incident_id=report.incident_id,
            ok=report.ok,
            steps=[
                RecoveryStepView(name=s.name, ok=s.ok, summary=s.summary, evidence=jsonable(s.evidence))
                for s in report.steps
            ],
        )


def running_platform(request: Request) -> Platform:
    platform = app_context(request).platform
    if platform is None:
        raise ConflictError(
            "The recovery procedure needs the running platform (fictra up): it restarts its components "
            "and checks its follower, RPC pool and stores. Run it from the console of `fictra up`."
        )
    return platform


async def recover(
    platform: Platform, *, incident_id: int, actor: Actor, steps: tuple[StepName, ...] = ALL_STEPS
) -> RecoveryReport:
    """Run the recovery for ``incident_id`` unless one runs on ``platform`` already (ConflictError); the
    API route and the incident page's Run recovery button both come here."""
    key = id(platform)
    if key in _running:
        raise ConflictError("A recovery is running on this platform already: wait for it to finish.")
    _running.add(key)
    try:
        return await run_recovery(platform, incident_id=incident_id, actor=actor, steps=steps)
    finally:
        _running.discard(key)


@router.post(
    "/{incident_id}/recovery",
    summary="Run the system recovery procedure for an incident (each step on its timeline)",
    **guarded("actions.execute"),
)
async def incidents_recovery(
    request: Request, actor: CurrentActor, incident_id: Id, body: RecoveryBody | None = None
) -> RecoveryView:
    platform = running_platform(request)
    steps = tuple(body.steps) if body is not None and body.steps else ALL_STEPS
    report = await recover(platform, incident_id=incident_id, actor=actor, steps=steps)
    return RecoveryView.of(report)
