"""Governance proposal pages: the list (a filter by status; the ones no change request carries marked),
and one proposal with its decoded calls, risk, votes, timeline, simulation result table (state before and
after, decoded events), review state with the sign-offs, the verification after execution and the forms
(simulate, sign off, verify, link a change) — the same service calls and permission (``proposals.review``)
as the API. Refusals come back on the page with the service's message and the API's status for it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from fictra.api.deps import app_context, guarded
from fictra.api.errors import status_for
from fictra.api.routes.proposals import context_for
from fictra.auth.actor import Actor
from fictra.errors import FictraError, NotFoundError, UsageError
from fictra.proposals import service
from fictra.proposals.queries import STATUSES, detail, list_proposals
from fictra.web.access import ConsoleRoute, SignedIn, error_page, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
ProposalNo = Annotated[int, Path(ge=1, le=2**31 - 1)]
FILTERS = ("open", *STATUSES, "all")
STATUS_CLASS = {
    "created": "warn",
    "queued": "label",
    "executed": "ok",
    "canceled": "muted",
    "defeated": "muted",
}
RISK_CLASS = {"low": "muted", "medium": "warn", "high": "bad"}
REVIEW_CLASS = {"signed off": "ok", "verified": "ok", "rejected": "bad", "verification failed": "bad"}
PAGE: dict[str, Any] = {
    "page": "proposals",
    "STATUS_CLASS": STATUS_CLASS,
    "RISK_CLASS": RISK_CLASS,
    "REVIEW_CLASS": REVIEW_CLASS,
}


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@router.get("/proposals", **guarded("proposals.read"))
async def proposals_page(request: Request, actor: SignedIn) -> Response:
    wanted = (request.query_params.get("status") or "open").strip()
    status = wanted if wanted in FILTERS else "open"
    try:
        async with context_for(request) as ctx, app_context(request).sessions() as session:
            rows = await list_proposals(
                session, ctx, status=None if status in ("open", "all") else status, limit=500
            )
    except FictraError as exc:
        return error_page(request, exc, page_name="proposals", heading="Proposals unavailable")
    if status == "open":
        rows = [r for r in rows if r["status"] in ("created", "queued")]
    return page(request, actor, "proposals.html", proposals=rows, status=status, FILTERS=FILTERS, **PAGE)


async def _proposal_page(
    request: Request, actor: Actor, n: int, *, status_code: int = 200, action_error: str | None = None
) -> Response:
    try:
        async with context_for(request) as ctx, app_context(request).sessions() as session:
            proposal = await detail(session, ctx, proposal=n)
            wired = ctx.wired
    except NotFoundError as exc:
        return error_page(request, exc, page_name="proposals", heading="No such proposal")
    except FictraError as exc:
        return error_page(request, exc, page_name="proposals", heading="Proposal unavailable")
    return page(
        request, actor, "proposal_detail.html", status_code=status_code, p=proposal, wired=wired,
        action_error=action_error, **PAGE,
    )  # fmt: skip


@router.get("/proposals/{n}", **guarded("proposals.read"))
async def proposal_page(request: Request, n: ProposalNo, actor: SignedIn) -> Response:
    return await _proposal_page(request, actor, n)


async def _work(request: Request, actor: Actor, n: int, what: str) -> Response:
    """One form of the proposal page in a transaction: back to the proposal, or the page with the refusal."""
    form = await request.form()
    try:
        async with context_for(request) as ctx, app_context(request).sessions() as session, session.begin():
            if what == "simulate":
                await service.simulate(session, ctx, proposal=n, actor=actor)
            elif what == "review":
                await service.sign_off(
                    session,
                    ctx,
                    proposal=n,
                    actor=actor,
                    verdict=_text(form, "verdict"),
                    note=_text(form, "note"),
                )
            elif what == "verify":
                await service.verify(session, ctx, proposal=n, actor=actor)
            elif what == "link":
                raw = _text(form, "change_id").lstrip("#")
                if not raw.isdigit() or not 1 <= int(raw) <= 2**31 - 1:
                    raise UsageError(
                        f"Change request id '{raw}' is not a number; give the change's # (e.g. 3)."
                    )
                await service.link(session, ctx, proposal=n, change_id=int(raw), actor=actor)
            else:
                raise UsageError(f"Unknown proposal action '{what}'.")
    except FictraError as exc:  # an unknown proposal: its page is the "No such proposal" page
        return await _proposal_page(
            request, actor, n, status_code=status_for(exc), action_error=exc.user_message
        )
    return RedirectResponse(f"/proposals/{n}", status_code=303)


@router.post("/proposals/{n}/simulate", **guarded("proposals.review"))
async def proposal_simulate(request: Request, n: ProposalNo, actor: SignedIn) -> Response:
    return await _work(request, actor, n, "simulate")


@router.post("/proposals/{n}/review", **guarded("proposals.review"))
async def proposal_review(request: Request, n: ProposalNo, actor: SignedIn) -> Response:
    return await _work(request, actor, n, "review")


@router.post("/proposals/{n}/verify", **guarded("proposals.review"))
async def proposal_verify(request: Request, n: ProposalNo, actor: SignedIn) -> Response:
    return await _work(request, actor, n, "verify")


@router.post("/proposals/{n}/links", **guarded("proposals.review"))
async def proposal_link(request: Request, n: ProposalNo, actor: SignedIn) -> Response:
    return await _work(request, actor, n, "link")
