"""Change request pages: the list (a filter by state) with a New change form (``changes.request``), and one
change with its state machine, what each next action waits for, its content, impact, risk, approvals,
conflicts, steps, verification, review and timeline, and the forms that move it (the same service calls
and permissions as the API: ``changes.request``, ``changes.approve``, ``changes.implement``). Refusals
come back on the page with the service's message and the API's status for it."""

from __future__ import annotations

from typing import Annotated, Any, get_args

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError

from fictra.api.deps import app_context, guarded
from fictra.api.errors import status_for
from fictra.api.routes.changes import MOVED, changes_context, release_window
from fictra.auth.actor import Actor
from fictra.changes import assess, document, feedback, implement, machine, review, schedule, service
from fictra.changes.context import ChangesContext, detail, list_changes
from fictra.changes.metrics import svg_chart
from fictra.changes.records import load
from fictra.changes.schemas import Category, ChangeType, ReviewInput
from fictra.errors import FictraError, NotFoundError, UsageError
from fictra.web.access import ConsoleRoute, SignedIn, error_page, page
from fictra.web.changes_forms import ChangeForm

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
ChangeId = Annotated[int, Path(ge=1, le=2**31 - 1)]
Phase = Annotated[str, Path(pattern=r"^(implement|rollback)$")]
Position = Annotated[int, Path(ge=0, le=1000)]
FILTERS = ("open", *machine.STATES, "all")
OPEN = tuple(s for s in machine.STATES if s not in machine.TERMINAL)
STATE_CLASS = {
    "draft": "muted", "assessment": "warn", "authorization": "warn", "scheduled": "label",
    "implementing": "bad", "review": "warn", "closed": "ok", "canceled": "muted", "failed": "bad",
    "rolled_back": "bad",
}  # fmt: skip
PAGE = {"page": "changes", "STATE_CLASS": STATE_CLASS}
# the console's buttons for the plain transitions (the others have their own forms)
MOVES = ("submit", "request_authorization", "schedule", "start", "complete", "fail", "rollback", "close",
         "cancel")  # fmt: skip
MOVE_PERMISSION = {"start": "changes.implement", "complete": "changes.implement", "fail": "changes.implement",
                   "rollback": "changes.implement"}  # fmt: skip


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


async def _list_page(
    request: Request, actor: Actor, *, form: ChangeForm | None = None, new_error: str | None = None,
    status_code: int = 200,
) -> Response:  # fmt: skip
    ctx = changes_context(request)
    wanted = (request.query_params.get("state") or "open").strip()
    state = wanted if wanted in FILTERS else "open"
    async with app_context(request).sessions() as session:
        rows = await list_changes(session, state=None if state in ("open", "all") else state, limit=500)
    if state == "open":
        rows = [r for r in rows if r["state"] in OPEN]
    return page(
        request, actor, "changes.html", status_code=status_code, changes=rows, state=state, FILTERS=FILTERS,
        form=form or ChangeForm(), new_error=new_error, components=sorted(ctx.config.components),
        catalogue=ctx.config.components, templates=ctx.config.standard, TYPES=get_args(ChangeType),
        CATEGORIES=get_args(Category), **PAGE,
    )  # fmt: skip


@router.get("/changes", **guarded("changes.read"))
async def changes_page(request: Request, actor: SignedIn) -> Response:
    return await _list_page(request, actor)


@router.post("/changes", **guarded("changes.request"))
async def changes_create(request: Request, actor: SignedIn) -> Response:
    """The New change form: a change request in draft."""
    form = ChangeForm.of(await request.form())
    ctx, app = changes_context(request), app_context(request)
    try:
        data = form.to_input()
        async with app.sessions() as session, session.begin():
            change = await service.create(session, cfg=ctx.config, data=data, actor=actor, clock=ctx.clock)
            change_id = change.id
    except FictraError as exc:
        return await _list_page(
            request, actor, form=form, new_error=exc.user_message, status_code=status_for(exc)
        )
    return RedirectResponse(f"/changes/{change_id}", status_code=303)


async def _change_page(
    request: Request,
    actor: Actor,
    change_id: int,
    *,
    status_code: int = 200,
    action_error: str | None = None,
    feedback_links: list[tuple[str, str]] | None = None,
) -> Response:
    ctx = changes_context(request)
    try:
        async with app_context(request).sessions() as session:
            change = await detail(
                session, change_id=change_id, clock=ctx.clock, cfg=ctx.config, incidents_on=ctx.incidents_on
            )
            conflicts = change["conflicts_now"] or []
            answers = await feedback.feedback_of(session, change_id)
            ids = [st["action_id"] for st in change["steps"] if st["action_id"] is not None]
            statuses = dict(await ctx.action_status(session, ids)) if ids and ctx.action_status else {}
    except NotFoundError as exc:
        return error_page(request, exc, page_name="changes", heading="No such change")
    return page(
        request, actor, "change_detail.html", status_code=status_code, change=change, conflicts=conflicts,
        questions=ctx.config.questions, action_error=action_error, MOVES=MOVES,
        MOVE_PERMISSION=MOVE_PERMISSION, wired=ctx.wired, feedback=answers, feedback_links=feedback_links,
        action_statuses=statuses,
        chart=Markup(_chart(change)), **PAGE,  # noqa: S704 - our SVG, every label escaped
    )  # fmt: skip


def _chart(change: dict[str, Any]) -> str:
    """The review's before/after SVG (our own markup, every label escaped), or nothing."""
    performance = (change.get("review") or {}).get("performance")
    return svg_chart(performance) if performance else ""


@router.get("/changes/{change_id}", **guarded("changes.read"))
async def change_page(request: Request, change_id: ChangeId, actor: SignedIn) -> Response:
    return await _change_page(request, actor, change_id)


async def _work(request: Request, actor: Actor, change_id: int, what: str, **kw: Any) -> Response:
    """Run one form of the change page in a transaction: back to the change, or the page with the refusal."""
    form = await request.form()
    ctx: ChangesContext = changes_context(request)
    clock = ctx.clock
    shown: list[tuple[str, str]] = []
    try:
        async with app_context(request).sessions() as session, session.begin():
            if what == "assess":
                answers = {q.id: _text(form, f"q_{q.id}") == "yes" for q in ctx.config.questions}
                await assess.assess(
                    session, cfg=ctx.config, change_id=change_id, answers=answers, watched_by=ctx.watched_by,
                    incidents_on=ctx.incidents_on, actor=actor, clock=clock,
                )  # fmt: skip
            elif what == "approve":
                await service.approve(
                    session, change_id=change_id, content_hash=_text(form, "content_hash"), actor=actor,
                    clock=clock,
                )  # fmt: skip
            elif what == "acknowledge":
                await schedule.acknowledge(
                    session, cfg=ctx.config, change_id=change_id, incidents_on=ctx.incidents_on, actor=actor,
                    clock=clock, note=_text(form, "note") or None,
                )  # fmt: skip
            elif what == "schedule":
                await schedule.schedule(
                    session, cfg=ctx.config, change_id=change_id, incidents_on=ctx.incidents_on, actor=actor,
                    clock=clock, open_window=ctx.open_window,
                )  # fmt: skip
            elif what == "run":
                await implement.run_step(
                    session, change_id=change_id, phase=kw["phase"], position=kw["position"],
                    propose=ctx.propose_action, actor=actor, clock=clock,
                )  # fmt: skip
            elif what == "done":
                await implement.complete_step(
                    session, change_id=change_id, phase=kw["phase"], position=kw["position"],
                    note=_text(form, "note") or None, actor=actor, clock=clock,
                )  # fmt: skip
            elif what == "verify":
                signoffs = {k[len("signoff_"):]: v == "yes" for k, v in form.items()
                            if k.startswith("signoff_") and isinstance(v, str)}  # fmt: skip
                await implement.verify(
                    session, change_id=change_id, read_values=ctx.read_values, signoffs=signoffs, actor=actor,
                    clock=clock,
                )  # fmt: skip
            elif what == "review":
                data = ReviewInput(
                    success=_text(form, "success") == "yes", criteria=_text(form, "criteria"),
                    documentation_updates=_text(form, "documentation_updates"),
                    lessons_learned=_text(form, "lessons_learned"),
                    metrics=[m.strip() for m in _text(form, "metrics").split(",") if m.strip()],
                )  # fmt: skip
                await review.record_review(
                    session, change_id=change_id, review=data, actor=actor, clock=clock,
                    network=ctx.network or None,
                )  # fmt: skip
            elif what == "feedback":
                links = await feedback.request_feedback(
                    session, change_id=change_id, actor=actor, clock=clock
                )
                base = str(request.base_url).rstrip("/")
                shown = [(x["stakeholder"], f"{base}/feedback/changes/{x['token']}") for x in links]
            elif what in MOVES:
                before = (await load(session, change_id)).state
                await service.transition(
                    session, cfg=ctx.config, change_id=change_id, action=what, actor=actor, clock=clock,
                    reason=_text(form, "reason") or None,
                )  # fmt: skip
                await release_window(session, ctx, change_id, before, actor, MOVED.get(what, what))
            else:
                raise UsageError(f"Unknown change action '{what}'.")
    except NotFoundError as exc:
        return error_page(request, exc, page_name="changes", heading="No such change")
    except ValidationError as exc:  # a review the schema refuses
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "review"
        message = f"The review is incomplete: {where}: {first['msg']}; give the criteria and lessons learned."
        return await _change_page(request, actor, change_id, status_code=422, action_error=message)
    except FictraError as exc:
        return await _change_page(
            request, actor, change_id, status_code=status_for(exc), action_error=exc.user_message
        )
    if shown:  # the one-time links are shown once, on the page (only their hashes are stored)
        return await _change_page(request, actor, change_id, feedback_links=shown)
    return RedirectResponse(f"/changes/{change_id}", status_code=303)


@router.post("/changes/{change_id}/assess", **guarded("changes.request"))
async def change_assess(request: Request, change_id: ChangeId, actor: SignedIn) -> Response:
    return await _work(request, actor, change_id, "assess")


@router.post("/changes/{change_id}/approve", **guarded("changes.approve"))
async def change_approve(request: Request, change_id: ChangeId, actor: SignedIn) -> Response:
    return await _work(request, actor, change_id, "approve")


@router.post("/changes/{change_id}/acknowledge", **guarded("changes.approve"))
async def change_acknowledge(request: Request, change_id: ChangeId, actor: SignedIn) -> Response:
    return await _work(request, actor, change_id, "acknowledge")


@router.post("/changes/{change_id}/move/{action}", **guarded("changes.request"))
async def change_move(request: Request, change_id: ChangeId, action: str, actor: SignedIn) -> Response:
    """A plain transition; the implementation ones also need ``changes.implement``."""
    needed = MOVE_PERMISSION.get(action)
    if needed is not None and not actor.can(needed):
        message = f"'{actor.username}' cannot {action} a change: it needs the {needed} permission."
        return await _change_page(request, actor, change_id, status_code=403, action_error=message)
    return await _work(request, actor, change_id, action)


@router.post("/changes/{change_id}/steps/{phase}/{position}/run", **guarded("changes.implement"))
async def change_step_run(
    request: Request, change_id: ChangeId, phase: Phase, position: Position, actor: SignedIn
) -> Response:
    return await _work(request, actor, change_id, "run", phase=phase, position=position)


@router.post("/changes/{change_id}/steps/{phase}/{position}/done", **guarded("changes.implement"))
async def change_step_done(
    request: Request, change_id: ChangeId, phase: Phase, position: Position, actor: SignedIn
) -> Response:
    return await _work(request, actor, change_id, "done", phase=phase, position=position)


@router.post("/changes/{change_id}/verify", **guarded("changes.implement"))
async def change_verify(request: Request, change_id: ChangeId, actor: SignedIn) -> Response:
    return await _work(request, actor, change_id, "verify")


@router.post("/changes/{change_id}/review", **guarded("changes.request"))
async def change_review(request: Request, change_id: ChangeId, actor: SignedIn) -> Response:
    return await _work(request, actor, change_id, "review")


@router.post("/changes/{change_id}/feedback-links", **guarded("changes.request"))
async def change_feedback_links(request: Request, change_id: ChangeId, actor: SignedIn) -> Response:
    """One-time feedback links for the stakeholders of ``notify``, shown once on the page."""
    return await _work(request, actor, change_id, "feedback")


@router.get("/changes/{change_id}/document.{fmt}", **guarded("changes.read"))
async def change_document(
    request: Request,
    change_id: ChangeId,
    fmt: Annotated[str, Path(pattern=r"^(md|html|pdf)$")],
    actor: SignedIn,
) -> Response:
    """The runbook's "Change Requests" template rendered from the record."""
    ctx = changes_context(request)
    try:
        async with app_context(request).sessions() as session:
            data = await document.render(
                session, change_id, fmt, clock=ctx.clock, action_status=ctx.action_status
            )
    except NotFoundError as exc:
        return error_page(request, exc, page_name="changes", heading="No such change")
    return Response(data, media_type=document.MEDIA_TYPES[fmt])
