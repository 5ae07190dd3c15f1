"""The change requests API (prefix /api/v1/changes; docs/changes.md).

GET    /changes?state=&limit=                 changes, newest first                       changes.read
GET    /changes/{id}                          content, steps, approvals, timeline, the state
                                              machine and what each next action waits for   changes.read
GET    /changes/{id}/conflicts                the slot's scheduling conflicts, computed now changes.read
POST   /changes                               create (draft)                                changes.request
PUT    /changes/{id}                          edit the content (voids every approval)       changes.request
POST   /changes/{id}/submit                   draft -> assessment                           changes.request
POST   /changes/{id}/assess                   {answers}: impact and risk                    changes.request
POST   /changes/{id}/request-authorization    -> authorization (approval rule copied)       changes.request
POST   /changes/{id}/approve                  {content_hash}: approve what you reviewed     changes.approve
POST   /changes/{id}/acknowledge              {note}: acknowledge the conflicts seen now    changes.approve
POST   /changes/{id}/schedule                 -> scheduled (conflicts acknowledged)         changes.request
POST   /changes/{id}/start                    scheduled -> implementing                     changes.implement
POST   /changes/{id}/steps/{phase}/{pos}/run  propose the step's on-chain action            changes.implement
POST   /changes/{id}/steps/{phase}/{pos}/done {note}: tick the step                         changes.implement
POST   /changes/{id}/verify                   {signoffs}: run the checks                    changes.implement
POST   /changes/{id}/complete | fail | rollback                                             changes.implement
POST   /changes/{id}/review                   the post-implementation review                changes.request
POST   /changes/{id}/close                    -> closed (the review recorded)               changes.request
POST   /changes/{id}/cancel                   {reason}                                      changes.request
GET    /changes/{id}/document.{md|html|pdf}   the runbook's "Change Requests" template        changes.read
POST   /changes/{id}/feedback-links           one-time feedback links for the stakeholders  changes.request
GET    /changes/{id}/feedback                 the stakeholders' answers                     changes.read

The other domains' facts (open incidents, chain values, proposing on-chain steps) come from the running
platform's ``platform.changes`` context; without it an offline context is used and every answer says so
in ``platform``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.api.deps import DbSession, app_context, guarded
from fictra.auth.deps import Actor, current_actor
from fictra.changes import assess, document, feedback, implement, review, schedule, service
from fictra.changes.config import ChangesConfig
from fictra.changes.context import OFFLINE_NOTE, ChangesContext, detail, list_changes, offline_context
from fictra.changes.records import load
from fictra.changes.schemas import ChangeInput, ReviewInput

router = APIRouter(prefix="/api/v1/changes", tags=["changes"])
CurrentActor = Annotated[Actor, Depends(current_actor)]
ChangeId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Change request id.")]
Phase = Annotated[str, Path(pattern=r"^(implement|rollback)$")]
Position = Annotated[int, Path(ge=0, le=1000)]


def changes_context(request: Request) -> ChangesContext:
    """The platform's context when ``fictra up`` runs; else an offline one from the config set."""
    ctx = app_context(request)
    wired = getattr(ctx.platform, "changes", None)
    if isinstance(wired, ChangesContext):
        return wired
    cs = ctx.config_set
    cfg = getattr(cs, "changes", None)
    return offline_context(
        config=cfg if isinstance(cfg, ChangesConfig) else ChangesConfig(),
        clock=ctx.clock,
        watched_by=assess.watchers(cs.monitors, cs.rules),
        network=cs.network.name,
    )


Ctx = Annotated[ChangesContext, Depends(changes_context)]


class Answers(BaseModel):
    answers: dict[str, bool] = Field(description="Risk questionnaire: question id -> yes/no.")


class Approval(BaseModel):
    content_hash: str = Field(pattern=r"^[0-9a-f]{64}$", description="The content hash you reviewed.")


class Note(BaseModel):
    note: str | None = Field(default=None, max_length=4000)


class Reason(BaseModel):
    reason: str | None = Field(default=None, max_length=4000)


class Signoffs(BaseModel):
    signoffs: dict[str, bool] = Field(default_factory=dict, description="Manual check name -> passed.")


async def _answer(session: AsyncSession, ctx: ChangesContext, change_id: int) -> dict[str, Any]:
    out = await detail(
        session, change_id=change_id, clock=ctx.clock, cfg=ctx.config, incidents_on=ctx.incidents_on
    )
    out["platform"] = {"connected": ctx.wired, "note": None if ctx.wired else OFFLINE_NOTE}
    return out


MOVED = {"cancel": "canceled", "complete": "implemented", "rollback": "rolled back"}


async def release_window(
    session: AsyncSession, ctx: ChangesContext, change_id: int, before: str, actor: Actor, why: str
) -> None:
    """A change that leaves "scheduled" without starting (edited, canceled) cancels its window; one whose
    implementation is over (review, rolled back) marks its window's work done (no overrun reminder)."""
    change = await load(session, change_id)
    if not change.window_id:
        return
    if before == "scheduled" and change.state != "scheduled" and ctx.close_window:
        await ctx.close_window(session, change.window_id, change_id, f"change {change_id} {why}", actor)
    elif (
        before in ("implementing", "failed") and change.state in ("review", "rolled_back") and ctx.done_window
    ):
        await ctx.done_window(session, change.window_id, change_id, f"change {change_id} {why}", actor)


async def _move(
    session: AsyncSession, ctx: ChangesContext, actor: Actor, change_id: int, action: str, reason: str | None
) -> dict[str, Any]:
    before = (await load(session, change_id)).state
    await service.transition(
        session, cfg=ctx.config, change_id=change_id, action=action, actor=actor, clock=ctx.clock,
        reason=reason,
    )  # fmt: skip
    await release_window(session, ctx, change_id, before, actor, MOVED.get(action, action))
    return await _answer(session, ctx, change_id)


@router.get("", summary="Change requests, newest first", **guarded("changes.read"))
async def changes_list(
    session: DbSession,
    state: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return await list_changes(session, state=state, limit=limit)


@router.get("/{change_id}", summary="One change and what it waits for", **guarded("changes.read"))
async def changes_show(session: DbSession, ctx: Ctx, change_id: ChangeId) -> dict[str, Any]:
    return await _answer(session, ctx, change_id)


@router.get("/{change_id}/conflicts", summary="Scheduling conflicts now", **guarded("changes.read"))
async def changes_conflicts(session: DbSession, ctx: Ctx, change_id: ChangeId) -> dict[str, Any]:
    change = await load(session, change_id)
    found = await schedule.conflicts_of(session, cfg=ctx.config, change=change, incidents_on=ctx.incidents_on)
    acked = set((change.conflicts_ack or {}).get("texts", []))
    return {
        "conflicts": [{**c, "acknowledged": c["text"] in acked} for c in found],
        "platform": {"connected": ctx.wired, "note": None if ctx.wired else OFFLINE_NOTE},
    }


@router.post("", status_code=201, summary="Request a change (draft)", **guarded("changes.request"))
async def changes_create(
    session: DbSession, ctx: Ctx, actor: CurrentActor, body: ChangeInput
) -> dict[str, Any]:
    change = await service.create(session, cfg=ctx.config, data=body, actor=actor, clock=ctx.clock)
    return await _answer(session, ctx, change.id)


@router.put("/{change_id}", summary="Edit the content (voids approvals)", **guarded("changes.request"))
async def changes_edit(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId, body: ChangeInput
) -> dict[str, Any]:
    before = (await load(session, change_id)).state
    await service.edit(session, cfg=ctx.config, change_id=change_id, data=body, actor=actor, clock=ctx.clock)
    await release_window(session, ctx, change_id, before, actor, "edited (to be scheduled again)")
    return await _answer(session, ctx, change_id)


@router.post("/{change_id}/submit", summary="Submit for assessment", **guarded("changes.request"))
async def changes_submit(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId
) -> dict[str, Any]:
    return await _move(session, ctx, actor, change_id, "submit", None)


@router.post("/{change_id}/assess", summary="Assess impact and risk", **guarded("changes.request"))
async def changes_assess(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId, body: Answers
) -> dict[str, Any]:
    await assess.assess(
        session, cfg=ctx.config, change_id=change_id, answers=body.answers, watched_by=ctx.watched_by,
        incidents_on=ctx.incidents_on, actor=actor, clock=ctx.clock,
    )  # fmt: skip
    return await _answer(session, ctx, change_id)


@router.post(
    "/{change_id}/request-authorization",
    summary="Request authorization (the approval rule is fixed now)",
    **guarded("changes.request"),
)
async def changes_request_authorization(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId
) -> dict[str, Any]:
    return await _move(session, ctx, actor, change_id, "request_authorization", None)


@router.post("/{change_id}/approve", summary="Approve the content you reviewed", **guarded("changes.approve"))
async def changes_approve(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId, body: Approval
) -> dict[str, Any]:
    await service.approve(
        session, change_id=change_id, content_hash=body.content_hash, actor=actor, clock=ctx.clock
    )
    return await _answer(session, ctx, change_id)


@router.post("/{change_id}/acknowledge", summary="Acknowledge the conflicts", **guarded("changes.approve"))
async def changes_acknowledge(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId, body: Note
) -> dict[str, Any]:
    await schedule.acknowledge(
        session, cfg=ctx.config, change_id=change_id, incidents_on=ctx.incidents_on, actor=actor,
        clock=ctx.clock, note=body.note,
    )  # fmt: skip
    return await _answer(session, ctx, change_id)


@router.post("/{change_id}/schedule", summary="Schedule the change", **guarded("changes.request"))
async def changes_schedule(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId
) -> dict[str, Any]:
    await schedule.schedule(
        session, cfg=ctx.config, change_id=change_id, incidents_on=ctx.incidents_on, actor=actor,
        clock=ctx.clock, open_window=ctx.open_window,
    )  # fmt: skip
    return await _answer(session, ctx, change_id)


@router.post("/{change_id}/start", summary="Start implementing", **guarded("changes.implement"))
async def changes_start(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId
) -> dict[str, Any]:
    return await _move(session, ctx, actor, change_id, "start", None)


@router.post(
    "/{change_id}/steps/{phase}/{position}/run",
    summary="Propose the step's on-chain action",
    **guarded("changes.implement"),
)
async def changes_step_run(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId, phase: Phase, position: Position
) -> dict[str, Any]:
    await implement.run_step(
        session, change_id=change_id, phase=phase, position=position, propose=ctx.propose_action,
        actor=actor, clock=ctx.clock,
    )  # fmt: skip
    return await _answer(session, ctx, change_id)


@router.post(
    "/{change_id}/steps/{phase}/{position}/done", summary="Tick a step", **guarded("changes.implement")
)
async def changes_step_done(
    session: DbSession,
    ctx: Ctx,
    actor: CurrentActor,
    change_id: ChangeId,
    phase: Phase,
    position: Position,
    body: Note,
) -> dict[str, Any]:
    await implement.complete_step(
        session, change_id=change_id, phase=phase, position=position, note=body.note, actor=actor,
        clock=ctx.clock,
    )  # fmt: skip
    return await _answer(session, ctx, change_id)


@router.post("/{change_id}/verify", summary="Run the verification", **guarded("changes.implement"))
async def changes_verify(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId, body: Signoffs
) -> dict[str, Any]:
    await implement.verify(
        session, change_id=change_id, read_values=ctx.read_values, signoffs=body.signoffs, actor=actor,
        clock=ctx.clock,
    )  # fmt: skip
    return await _answer(session, ctx, change_id)


@router.post("/{change_id}/complete", summary="Implementation complete", **guarded("changes.implement"))
async def changes_complete(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId
) -> dict[str, Any]:
    return await _move(session, ctx, actor, change_id, "complete", None)


@router.post("/{change_id}/fail", summary="Mark failed (verification failed)", **guarded("changes.implement"))
async def changes_fail(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId, body: Reason
) -> dict[str, Any]:
    return await _move(session, ctx, actor, change_id, "fail", body.reason)


@router.post("/{change_id}/rollback", summary="Rolled back", **guarded("changes.implement"))
async def changes_rollback(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId, body: Reason
) -> dict[str, Any]:
    return await _move(session, ctx, actor, change_id, "rollback", body.reason)


@router.post("/{change_id}/review", summary="Post-implementation review", **guarded("changes.request"))
async def changes_review(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId, body: ReviewInput
) -> dict[str, Any]:
    await review.record_review(
        session, change_id=change_id, review=body, actor=actor, clock=ctx.clock, network=ctx.network or None
    )
    return await _answer(session, ctx, change_id)


@router.post("/{change_id}/close", summary="Close the change", **guarded("changes.request"))
async def changes_close(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId
) -> dict[str, Any]:
    return await _move(session, ctx, actor, change_id, "close", None)


@router.post("/{change_id}/cancel", summary="Cancel the change", **guarded("changes.request"))
async def changes_cancel(
    session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId, body: Reason
) -> dict[str, Any]:
    return await _move(session, ctx, actor, change_id, "cancel", body.reason)


DOCUMENT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The change request in the requested format",
        "content": {"text/markdown": {}, "text/html": {}, "application/pdf": {}},
    }
}


@router.get(
    "/{change_id}/document.{fmt}",
    summary="The change request document",
    responses=DOCUMENT_RESPONSES,
    response_class=Response,
    **guarded("changes.read"),
)
async def changes_document(
    session: DbSession, ctx: Ctx, change_id: ChangeId, fmt: Annotated[str, Path(pattern=r"^(md|html|pdf)$")]
) -> Response:
    data = await document.render(session, change_id, fmt, clock=ctx.clock, action_status=ctx.action_status)
    name = f"change-{change_id}.{fmt}"
    return Response(
        data,
        media_type=document.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@router.post(
    "/{change_id}/feedback-links", summary="Feedback links for the stakeholders", **guarded("changes.request")
)
async def changes_feedback_links(
    request: Request, session: DbSession, ctx: Ctx, actor: CurrentActor, change_id: ChangeId
) -> dict[str, Any]:
    links = await feedback.request_feedback(session, change_id=change_id, actor=actor, clock=ctx.clock)
    base = str(request.base_url).rstrip("/")
    return {
        "links": [
            {"stakeholder": x["stakeholder"], "url": f"{base}/feedback/changes/{x['token']}"} for x in links
        ],
        "expires_in": str(feedback.FEEDBACK_TTL),
    }


@router.get("/{change_id}/feedback", summary="The stakeholders' feedback", **guarded("changes.read"))
async def changes_feedback(session: DbSession, change_id: ChangeId) -> list[dict[str, Any]]:
    await load(session, change_id)
    return await feedback.feedback_of(session, change_id)
