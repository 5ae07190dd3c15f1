"""Support queue pages: the tickets (state, priority, SLA clocks; a filter by state) with a New ticket form
(``support.submit``, source ``console``), and one ticket with its replies, notes, links and SLA clocks and
the forms that work it (``tickets.manage``): assign, public reply (emailed through the outbox), internal
note, state change, link. Refusals (a move the transition table refuses, a closed ticket, bad input) come
back on the page with the service's message and the API's status for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from fictra.api.deps import app_context, guarded
from fictra.api.errors import status_for
from fictra.api.routes.support import support_config
from fictra.auth.actor import Actor
from fictra.errors import FictraError, NotFoundError
from fictra.support.config import PRIORITIES
from fictra.support.models import LinkKind, Source, TicketState
from fictra.support.queries import list_tickets, ticket_detail
from fictra.support.service import TRANSITIONS, add_note, assign, create_ticket, link, reply, transition
from fictra.web.access import ConsoleRoute, SignedIn, error_page, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1)]
LIST_LIMIT = 200
FILTERS = ("active", *(s.value for s in TicketState), "all")
STATE_CLASS = {"new": "bad", "open": "warn", "pending": "muted", "solved": "ok", "closed": "muted"}
SLA_CLASS = {"running": "warn", "breached": "bad", "met": "ok", "stopped": "muted"}
PAGE = {"page": "tickets", "STATE_CLASS": STATE_CLASS, "SLA_CLASS": SLA_CLASS}


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


@dataclass(frozen=True)
class NewTicketForm:
    """What the New ticket form posted (kept to fill the form again after a refusal)."""

    title: str = ""
    description: str = ""
    requester_name: str = ""
    requester_email: str = ""
    participant: str = ""
    category: str = ""
    priority: str = ""

    @classmethod
    def of(cls, form: FormData) -> NewTicketForm:
        return cls(**{name: _field(form, name) for name in cls.__dataclass_fields__})


async def _list_page(
    request: Request,
    actor: Actor,
    *,
    form: NewTicketForm | None = None,
    new_error: str | None = None,
    status_code: int = 200,
) -> Response:
    wanted = (request.query_params.get("state") or "active").strip()
    state = wanted if wanted in FILTERS else "active"
    config, now = support_config(request), app_context(request).clock.now()
    async with app_context(request).sessions() as session:
        tickets = await list_tickets(
            session, now=now, state=None if state == "all" else state, limit=LIST_LIMIT
        )
    return page(
        request,
        actor,
        "support_tickets.html",
        status_code=status_code,
        now=now,
        tickets=tickets,
        state=state,
        FILTERS=FILTERS,
        form=form or NewTicketForm(),
        new_error=new_error,
        categories=config.categories,
        PRIORITIES=PRIORITIES,
        default_priority=config.default_priority,
        **PAGE,
    )


@router.get("/tickets", **guarded("tickets.read"))
async def tickets_page(request: Request, actor: SignedIn) -> Response:
    return await _list_page(request, actor)


@router.post("/tickets", **guarded("support.submit"))
async def tickets_create(request: Request, actor: SignedIn) -> Response:
    """The New ticket form: a ticket from the console (a phone call, a meeting), source ``console``."""
    form = NewTicketForm.of(await request.form())
    context = app_context(request)
    try:
        async with context.sessions() as session, session.begin():
            ticket = await create_ticket(
                session,
                title=form.title,
                description=form.description,
                requester_name=form.requester_name,
                requester_email=form.requester_email,
                participant=form.participant or None,
                category=form.category or None,
                priority=form.priority or None,
                source=Source.CONSOLE.value,
                actor=actor,
                config=support_config(request),
                clock=context.clock,
            )
            ticket_id = ticket.id
    except FictraError as exc:
        return await _list_page(
            request, actor, form=form, new_error=exc.user_message, status_code=status_for(exc)
        )
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)


async def _ticket_page(
    request: Request, actor: Actor, ticket_id: int, *, status_code: int = 200, **extra: Any
) -> Response:
    now = app_context(request).clock.now()
    try:
        async with app_context(request).sessions() as session:
            ticket = await ticket_detail(session, ticket_id=ticket_id, now=now)
    except NotFoundError as exc:
        return error_page(request, exc, page_name="tickets", heading="No such ticket")
    return page(
        request,
        actor,
        "support_ticket.html",
        status_code=status_code,
        now=now,
        ticket=ticket,
        moves=TRANSITIONS[TicketState(ticket.state)],
        LINK_KINDS=[k.value for k in LinkKind],
        action_error=extra.pop("action_error", None),
        **PAGE,
        **extra,
    )


@router.get("/tickets/{ticket_id}", **guarded("tickets.read"))
async def ticket_page(request: Request, ticket_id: TicketId, actor: SignedIn) -> Response:
    return await _ticket_page(request, actor, ticket_id)


async def _work(request: Request, actor: Actor, ticket_id: int, what: str) -> Response:
    """Run one of the ticket page's forms (``what``) in a transaction: back to the ticket on success, the
    ticket page with the service's message and status on a refusal."""
    form = await request.form()
    context = app_context(request)
    clock = context.clock
    try:
        async with context.sessions() as session, session.begin():
            if what == "assign":
                who = _field(form, "assignee") or None
                await assign(session, ticket_id=ticket_id, assignee=who, actor=actor, clock=clock)
            elif what == "reply":
                await reply(
                    session,
                    ticket_id=ticket_id,
                    body=_field(form, "body"),
                    actor=actor,
                    config=support_config(request),
                    clock=clock,
                )
            elif what == "note":
                await add_note(
                    session, ticket_id=ticket_id, body=_field(form, "body"), actor=actor, clock=clock
                )
            elif what == "state":
                await transition(
                    session,
                    ticket_id=ticket_id,
                    to_state=_field(form, "state"),
                    actor=actor,
                    clock=clock,
                    note=_field(form, "note") or None,
                )
            else:
                await link(
                    session,
                    ticket_id=ticket_id,
                    kind=_field(form, "kind"),
                    ref=_field(form, "ref"),
                    actor=actor,
                    clock=clock,
                )
    except NotFoundError as exc:
        return error_page(request, exc, page_name="tickets", heading="No such ticket")
    except FictraError as exc:
        return await _ticket_page(
            request, actor, ticket_id, status_code=status_for(exc), action_error=exc.user_message, failed=what
        )
    return RedirectResponse(f"/tickets/{ticket_id}", status_code=303)


@router.post("/tickets/{ticket_id}/assign", **guarded("tickets.manage"))
async def ticket_assign(request: Request, ticket_id: TicketId, actor: SignedIn) -> Response:
    """``assignee`` (empty: unassign)."""
    return await _work(request, actor, ticket_id, "assign")


@router.post("/tickets/{ticket_id}/replies", **guarded("tickets.manage"))
async def ticket_reply(request: Request, ticket_id: TicketId, actor: SignedIn) -> Response:
    """``body``: a public reply, emailed to the requester through the outbox."""
    return await _work(request, actor, ticket_id, "reply")


@router.post("/tickets/{ticket_id}/notes", **guarded("tickets.manage"))
async def ticket_note(request: Request, ticket_id: TicketId, actor: SignedIn) -> Response:
    """``body``: an internal note (never sent)."""
    return await _work(request, actor, ticket_id, "note")


@router.post("/tickets/{ticket_id}/state", **guarded("tickets.manage"))
async def ticket_state(request: Request, ticket_id: TicketId, actor: SignedIn) -> Response:
    """``state`` and an optional ``note`` (the audit entry's reason)."""
    return await _work(request, actor, ticket_id, "state")


@router.post("/tickets/{ticket_id}/links", **guarded("tickets.manage"))
async def ticket_link(request: Request, ticket_id: TicketId, actor: SignedIn) -> Response:
    """``kind`` (alert, incident, change) and ``ref`` (its id)."""
    return await _work(request, actor, ticket_id, "link")
