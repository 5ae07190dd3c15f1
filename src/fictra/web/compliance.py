"""Compliance pages: ``/compliance`` — open screening hits (with the false-positive form for
``compliance.dispose``), the list versions in force and before (with their diffs' counts), KYC records;
``/compliance/lists/{name}/{version}`` — one version's diff (added, removed, changed entries)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from fictra.api.deps import app_context, guarded
from fictra.api.errors import status_for
from fictra.auth.actor import Actor
from fictra.compliance.filing_models import FeedItem
from fictra.compliance.filings import calendar, filed
from fictra.compliance.kyc import list_kyc
from fictra.compliance.lists import get_version
from fictra.compliance.queries import counts, list_cases, list_hits, list_versions
from fictra.compliance.screening import dispose
from fictra.errors import FictraError, NotFoundError
from fictra.web.access import ConsoleRoute, SignedIn, error_page, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
STATES = ("open", "closed", "false_positive", "all")
STATE_CLASS = {"open": "bad", "closed": "muted", "false_positive": "ok"}
KYC_CLASS = {"approved": "ok", "pending": "warn", "rejected": "bad", "expired": "bad"}
PAGE: dict[str, Any] = {"page": "compliance", "STATE_CLASS": STATE_CLASS, "KYC_CLASS": KYC_CLASS}


async def _page(
    request: Request, actor: Actor, *, error: str | None = None, status_code: int = 200
) -> Response:
    wanted = (request.query_params.get("state") or "open").strip()
    state = wanted if wanted in STATES else "open"
    async with app_context(request).sessions() as session:
        hits = await list_hits(session, state=state, limit=200)
        versions = await list_versions(session)
        kyc = await list_kyc(session)
        summary = await counts(session)
        cases = await list_cases(session)
        done = await filed(session)
        feed_items = (await session.scalars(select(FeedItem).order_by(FeedItem.id.desc()).limit(50))).all()
    now = app_context(request).clock.now()
    config = app_context(request).config_set.compliance
    due = [(d, done.get((d.filing.name, d.period))) for d in calendar(config, now=now, back=2, ahead=1)]
    return page(
        request,
        actor,
        "compliance.html",
        status_code=status_code,
        now=now,
        hits=hits,
        cases=cases,
        due=due,
        feed_items=feed_items,
        state=state,
        STATES=STATES,
        versions=versions,
        kyc=kyc,
        summary=summary,
        error=error,
        **PAGE,
    )


@router.get("/compliance", **guarded("compliance.read"))
async def compliance_page(request: Request, actor: SignedIn) -> Response:
    return await _page(request, actor)


@router.post("/compliance/hits/{hit_id}/dispose", **guarded("compliance.dispose"))
async def compliance_dispose(
    request: Request, actor: SignedIn, hit_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> Response:
    form = await request.form()
    reason = form.get("reason")
    context = app_context(request)
    try:
        async with context.sessions() as session, session.begin():
            await dispose(
                session,
                hit_id=hit_id,
                reason=reason if isinstance(reason, str) else "",
                actor=actor,
                clock=context.clock,
            )
    except FictraError as exc:
        return await _page(request, actor, error=exc.user_message, status_code=status_for(exc))
    return RedirectResponse("/compliance", status_code=303)


@router.get("/compliance/lists/{name}/{version}", **guarded("compliance.read"))
async def compliance_list_version(
    request: Request,
    actor: SignedIn,
    name: Annotated[str, Path(max_length=64)],
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    try:
        async with app_context(request).sessions() as session:
            v = await get_version(session, list_name=name, version=version)
    except NotFoundError as exc:
        return error_page(request, exc, page_name="compliance", heading="No such list version")
    return page(request, actor, "compliance_list.html", v=v, diff=v.diff, **PAGE)
