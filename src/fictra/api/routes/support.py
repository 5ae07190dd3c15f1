"""The support queue API (prefix /api/v1/tickets).

GET    /tickets?state=&assignee=&limit=   tickets, newest first (state: active|new|open|...)  tickets.read
GET    /tickets/over-sla                  active tickets past a deadline                        tickets.read
GET    /tickets/{id}                      the ticket, its replies, notes, links, SLA clocks     tickets.read
POST   /tickets                           submit a ticket (a participant's integration token)  support.submit
POST   /tickets/{id}/replies              {body}: public reply, emailed to the requester       tickets.manage
POST   /tickets/{id}/notes                {body}: internal note                                 tickets.manage
POST   /tickets/{id}/assign               {assignee|null}                                       tickets.manage
POST   /tickets/{id}/state                {state, note}: move along the transition table       tickets.manage
POST   /tickets/{id}/links                {kind: alert|incident|change, ref}                    tickets.manage

A move the transition table refuses is 409 naming what is missing (an assignee, a public reply).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from fictra.api.deps import DbSession, app_context, guarded
from fictra.auth.deps import Actor, current_actor
from fictra.support.config import SupportConfig
from fictra.support.models import Source
from fictra.support.queries import MAX_LIMIT, list_tickets, over_sla, ticket_detail
from fictra.support.records import BODY_MAX
from fictra.support.schemas import OverSla, TicketDetail, TicketSummary
from fictra.support.service import add_note, assign, create_ticket, link, reply, transition

router = APIRouter(prefix="/api/v1/tickets", tags=["support"])
CurrentActor = Annotated[Actor, Depends(current_actor)]
TicketId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Ticket id.")]


def support_config(request: Request) -> SupportConfig:
    return app_context(request).config_set.support


Config = Annotated[SupportConfig, Depends(support_config)]


class NewTicket(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=BODY_MAX)
    requester_name: str = Field(min_length=1, max_length=200)
    requester_email: str = Field(min_length=3, max_length=320)
    participant: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=64)
    priority: str | None = Field(default=None, pattern=r"^P[0-3]$")


class Body(BaseModel):
    body: str = Field(min_length=1, max_length=BODY_MAX)


class AssignBody(BaseModel):
    assignee: str | None = Field(default=None, max_length=200)


class StateBody(BaseModel):
    state: str = Field(max_length=16)
    note: str | None = Field(default=None, max_length=2000)


class LinkBody(BaseModel):
    kind: str = Field(pattern=r"^(alert|incident|change)$")
    ref: str = Field(min_length=1, max_length=64)


@router.get("", summary="Support tickets, newest first", **guarded("tickets.read"))
async def tickets_list(
    request: Request,
    session: DbSession,
    state: Annotated[str | None, Query(max_length=16)] = None,
    assignee: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
) -> list[TicketSummary]:
    now = app_context(request).clock.now()
    return await list_tickets(session, now=now, state=state, assignee=assignee, limit=limit)


@router.get("/over-sla", summary="Active tickets past a deadline", **guarded("tickets.read"))
async def tickets_over_sla(request: Request, session: DbSession) -> list[OverSla]:
    return await over_sla(session, app_context(request).clock.now())


@router.get("/{ticket_id}", summary="One ticket with its thread and links", **guarded("tickets.read"))
async def tickets_show(request: Request, session: DbSession, ticket_id: TicketId) -> TicketDetail:
    return await ticket_detail(session, ticket_id=ticket_id, now=app_context(request).clock.now())


@router.post("", status_code=201, summary="Submit a support ticket", **guarded("support.submit"))
async def tickets_submit(
    request: Request, session: DbSession, config: Config, actor: CurrentActor, body: NewTicket
) -> TicketDetail:
    clock = app_context(request).clock
    ticket = await create_ticket(
        session,
        title=body.title,
        description=body.description,
        requester_name=body.requester_name,
        requester_email=body.requester_email,
        participant=body.participant,
        category=body.category,
        priority=body.priority,
        source=Source.API.value,
        actor=actor,
        config=config,
        clock=clock,
    )
    return await ticket_detail(session, ticket_id=ticket.id, now=clock.now(), internal=False)


@router.post("/{ticket_id}/replies", summary="Reply to the requester (email)", **guarded("tickets.manage"))
async def tickets_reply(
    request: Request, session: DbSession, config: Config, actor: CurrentActor, ticket_id: TicketId, body: Body
) -> TicketDetail:
    clock = app_context(request).clock
    await reply(session, ticket_id=ticket_id, body=body.body, actor=actor, config=config, clock=clock)
    return await ticket_detail(session, ticket_id=ticket_id, now=clock.now())


@router.post("/{ticket_id}/notes", summary="Add an internal note", **guarded("tickets.manage"))
async def tickets_note(
    request: Request, session: DbSession, actor: CurrentActor, ticket_id: TicketId, body: Body
) -> TicketDetail:
    clock = app_context(request).clock
    await add_note(session, ticket_id=ticket_id, body=body.body, actor=actor, clock=clock)
    return await ticket_detail(session, ticket_id=ticket_id, now=clock.now())


@router.post("/{ticket_id}/assign", summary="Assign (or unassign) the ticket", **guarded("tickets.manage"))
async def tickets_assign(
    request: Request, session: DbSession, actor: CurrentActor, ticket_id: TicketId, body: AssignBody
) -> TicketDetail:
    clock = app_context(request).clock
    await assign(session, ticket_id=ticket_id, assignee=body.assignee, actor=actor, clock=clock)
    return await ticket_detail(session, ticket_id=ticket_id, now=clock.now())


@router.post("/{ticket_id}/state", summary="Change the ticket's state", **guarded("tickets.manage"))
async def tickets_state(
    request: Request, session: DbSession, actor: CurrentActor, ticket_id: TicketId, body: StateBody
) -> TicketDetail:
    clock = app_context(request).clock
    await transition(
        session, ticket_id=ticket_id, to_state=body.state, actor=actor, clock=clock, note=body.note
    )
    return await ticket_detail(session, ticket_id=ticket_id, now=clock.now())


@router.post("/{ticket_id}/links", summary="Link an alert, incident or change", **guarded("tickets.manage"))
async def tickets_link(
    request: Request, session: DbSession, actor: CurrentActor, ticket_id: TicketId, body: LinkBody
) -> TicketDetail:
    clock = app_context(request).clock
    await link(session, ticket_id=ticket_id, kind=body.kind, ref=body.ref, actor=actor, clock=clock)
    return await ticket_detail(session, ticket_id=ticket_id, now=clock.now())
