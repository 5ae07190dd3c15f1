"""The stakeholders' feedback form (public: the one-time link's token is the credential, nothing else is
needed or shown): the change in a line, a rating 1-5 and a comment; an answer is recorded once
(:mod:`fictra.changes.feedback`, audited as ``stakeholder:<name>``). A used, expired or unknown link gets
a page that says which."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from fictra.api.deps import app_context
from fictra.api.errors import status_for
from fictra.changes.feedback import form_of, submit_feedback
from fictra.errors import FictraError, UsageError
from fictra.web.access import ConsoleRoute, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
Token = Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]


@router.get("/feedback/changes/{token}")
async def feedback_form(request: Request, token: Token) -> Response:
    clock = app_context(request).clock
    try:
        async with app_context(request).sessions() as session:
            about = await form_of(session, token=token, clock=clock)
    except FictraError as exc:
        return page(
            request, None, "change_feedback.html", status_code=status_for(exc), error=exc.user_message
        )
    return page(request, None, "change_feedback.html", about=about, token=token)


@router.post("/feedback/changes/{token}")
async def feedback_submit(request: Request, token: Token) -> Response:
    form = await request.form()
    raw_rating, comment = str(form.get("rating") or ""), str(form.get("comment") or "")
    clock = app_context(request).clock
    try:
        if not raw_rating.isdigit():
            raise UsageError(f"Rating '{raw_rating[:20]}' is not a number from 1 to 5.")
        async with app_context(request).sessions() as session, session.begin():
            row = await submit_feedback(
                session, token=token, rating=int(raw_rating), comment=comment, clock=clock
            )
            thanks = f"Thank you, {row.stakeholder}: your feedback on change #{row.change_id} is recorded."
    except FictraError as exc:
        return page(
            request, None, "change_feedback.html", status_code=status_for(exc), error=exc.user_message
        )
    return page(request, None, "change_feedback.html", thanks=thanks)
