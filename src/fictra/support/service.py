"""Ticket writes: open, assign, move through the states, reply (through the outbox), note, link.

Every function takes the session explicitly and writes in the caller's transaction; every change is an
audit entry (``ticket.*``). States go new -> open -> pending -> solved -> closed along
:data:`TRANSITIONS`; a move whose requirements are not met is refused naming each missing one. A state
change is a conditional ``UPDATE ... WHERE state = current``, so two people cannot move a ticket at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name, record
from fictra.clock import Clock
from fictra.errors import ConflictError, UsageError
from fictra.notify.message import Message
from fictra.notify.service import enqueue
from fictra.support.config import PRIORITIES, SupportConfig
from fictra.support.models import (
    CommentKind,
    LinkKind,
    Source,
    Ticket,
    TicketComment,
    TicketLink,
    TicketState,
)
from fictra.support.records import check_choice, clean_email, clean_line, clean_text, load_ticket

__all__ = [
    "TRANSITIONS",
    "add_note",
    "assign",
    "create_ticket",
    "link",
    "missing_for",
    "reply",
    "transition",
]

S = TicketState
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.NEW: (S.OPEN, S.PENDING, S.SOLVED),
    S.OPEN: (S.PENDING, S.SOLVED),
    S.PENDING: (S.OPEN, S.SOLVED),
    S.SOLVED: (S.OPEN, S.CLOSED),
    S.CLOSED: (),
}


def _snapshot(t: Ticket) -> dict[str, Any]:
    return {"state": t.state, "assignee": t.assignee, "priority": t.priority, "category": t.category}


async def _audit(
    session: AsyncSession,
    *,
    actor: object,
    action: str,
    ticket_id: int,
    clock: Clock,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    await record(
        session,
        actor=actor,
        action=action,
        target=f"ticket:{ticket_id}",
        before=before,
        after=after,
        reason=reason,
        clock=clock,
    )


async def create_ticket(
    session: AsyncSession,
    *,
    title: str,
    description: str,
    requester_name: str,
    requester_email: str,
    category: str | None,
    priority: str | None,
    source: str,
    actor: object,
    config: SupportConfig,
    clock: Clock,
    participant: str | None = None,
    thread_id: str | None = None,
) -> Ticket:
    """Open a ticket in state ``new`` with its SLA deadlines from ``config`` by priority."""
    prio = check_choice(priority or config.default_priority, PRIORITIES, "Priority")
    cat = check_choice(category or config.categories[0], config.categories, "Category")
    check_choice(source, [s.value for s in Source], "Source")
    sla = config.sla(prio)
    now = clock.now()
    ticket = Ticket(
        title=clean_line(title, what="title"),
        description=clean_text(description, what="description"),
        requester_name=clean_line(requester_name, what="requester name", limit=200),
        requester_email=clean_email(requester_email),
        participant=clean_line(participant, what="participant", limit=200) if participant else None,
        category=cat,
        priority=prio,
        state=S.NEW.value,
        source=source,
        thread_id=thread_id,
        created_by=actor_name(actor)[:200],
        created_at=now,
        updated_at=now,
        first_response_due=now + sla.first_response,
        resolution_due=now + sla.resolution,
    )
    session.add(ticket)
    await session.flush()
    await _audit(
        session,
        actor=actor,
        action="ticket.create",
        ticket_id=ticket.id,
        clock=clock,
        after={**_snapshot(ticket), "source": source, "requester": ticket.requester_email},
    )
    return ticket


async def assign(
    session: AsyncSession, *, ticket_id: int, assignee: str | None, actor: object, clock: Clock
) -> Ticket:
    """Set (or clear, with None) the ticket's assignee."""
    ticket = await load_ticket(session, ticket_id)
    if ticket.state == S.CLOSED:
        raise ConflictError(f"Ticket {ticket_id} is closed; it cannot be reassigned.")
    who = clean_line(assignee, what="assignee", limit=200) if assignee else None
    before = _snapshot(ticket)
    ticket.assignee = who
    ticket.updated_at = clock.now()
    await session.flush()
    await _audit(
        session, actor=actor, action="ticket.assign", ticket_id=ticket_id, clock=clock, before=before,
        after=_snapshot(ticket),
    )  # fmt: skip
    return ticket


def missing_for(ticket: Ticket, target: str) -> list[str]:
    """What ``ticket`` lacks to move to ``target`` (empty: it may move)."""
    missing = []
    if target in (S.OPEN, S.SOLVED) and not ticket.assignee:
        missing.append("an assignee (tickets assign / POST /api/v1/tickets/{id}/assign)")
    if target in (S.PENDING, S.SOLVED) and ticket.first_responded_at is None:
        missing.append("a public reply to the requester (tickets reply / POST /api/v1/tickets/{id}/replies)")
    return missing


async def transition(
    session: AsyncSession,
    *,
    ticket_id: int,
    to_state: str,
    actor: object,
    clock: Clock,
    note: str | None = None,
) -> Ticket:
    """Move the ticket to ``to_state`` along :data:`TRANSITIONS`; refused naming what is missing."""
    target = check_choice(to_state, [s.value for s in S], "State")
    ticket = await load_ticket(session, ticket_id)
    current = ticket.state
    allowed = TRANSITIONS[current]
    if target not in allowed:
        raise ConflictError(
            f"Ticket {ticket_id} is {current}; it can move to {', '.join(allowed) or 'nothing (closed)'}, "
            f"not {target}."
        )
    missing = missing_for(ticket, target)
    if missing:
        raise ConflictError(
            f"Ticket {ticket_id} cannot move {current} -> {target}: missing {'; '.join(missing)}."
        )
    reason = clean_text(note, what="note", limit=2000) if note and note.strip() else None
    now = clock.now()
    values: dict[str, Any] = {"state": target, "updated_at": now}
    if target == S.SOLVED:
        values["solved_at"] = now
    elif target == S.CLOSED:
        values["closed_at"] = now
    elif current == S.SOLVED:
        values["solved_at"] = None  # reopened: the resolution clock runs again
    result = await session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id, Ticket.state == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise ConflictError(f"Ticket {ticket_id} changed while moving it (someone else did); reload it.")
    await _audit(
        session, actor=actor, action="ticket.state", ticket_id=ticket_id, clock=clock,
        before={"state": current}, after={"state": target}, reason=reason,
    )  # fmt: skip
    return await load_ticket(session, ticket_id)


async def add_comment(
    session: AsyncSession,
    *,
    ticket: Ticket,
    kind: str,
    author: str,
    body: str,
    clock: Clock,
    message_id: str | None = None,
) -> TicketComment:
    comment = TicketComment(
        ticket_id=ticket.id,
        kind=kind,
        author=author[:320],
        body=clean_text(body, what="comment"),
        message_id=message_id,
        created_at=clock.now(),
    )
    session.add(comment)
    ticket.updated_at = clock.now()
    await session.flush()
    return comment


async def add_note(
    session: AsyncSession, *, ticket_id: int, body: str, actor: object, clock: Clock
) -> TicketComment:
    """An internal note: the team sees it, the requester never does."""
    ticket = await load_ticket(session, ticket_id)
    comment = await add_comment(
        session, ticket=ticket, kind=CommentKind.INTERNAL, author=actor_name(actor), body=body, clock=clock
    )
    await _audit(
        session, actor=actor, action="ticket.note", ticket_id=ticket_id, clock=clock,
        after={"comment": comment.id, "chars": len(comment.body)},
    )  # fmt: skip
    return comment


def reply_message(ticket: Ticket, body: str) -> Message:
    """The email a public reply sends: the ticket number in the subject, so answers thread back."""
    return Message(
        subject=f"[#{ticket.id}] {ticket.title}"[:500],
        body=body,
        severity=ticket.priority,
        recipients=[ticket.requester_email],
        fields={"ticket": str(ticket.id)},
        group_key=f"ticket-{ticket.id}",
    )


async def reply(
    session: AsyncSession, *, ticket_id: int, body: str, actor: object, config: SupportConfig, clock: Clock
) -> TicketComment:
    """A public reply: recorded on the ticket and sent to the requester through the outbox (delivered once
    the caller's transaction commits). The first one stops the first-response clock."""
    receiver = config.replies.receiver
    if receiver is None:
        raise UsageError(
            "Replies need a receiver: set replies.receiver in support.yaml to a receiver of receivers.yaml "
            "whose email channel has direct: true."
        )
    ticket = await load_ticket(session, ticket_id)
    if ticket.state == S.CLOSED:
        raise ConflictError(f"Ticket {ticket_id} is closed; open a new ticket to write to the requester.")
    comment = await add_comment(
        session, ticket=ticket, kind=CommentKind.PUBLIC, author=actor_name(actor), body=body, clock=clock
    )
    comment.notification_id = await enqueue(
        session,
        receiver=receiver,
        channel=config.replies.channel,
        message=reply_message(ticket, comment.body),
        idempotency_key=f"ticket-{ticket.id}-reply-{comment.id}",
        clock=clock,
    )
    first = ticket.first_responded_at is None
    if first:
        ticket.first_responded_at = comment.created_at
    await session.flush()
    await _audit(
        session, actor=actor, action="ticket.reply", ticket_id=ticket_id, clock=clock,
        after={"comment": comment.id, "notification": comment.notification_id, "first_response": first},
    )  # fmt: skip
    return comment


async def link(
    session: AsyncSession, *, ticket_id: int, kind: str, ref: str, actor: object, clock: Clock
) -> TicketLink:
    """Link an alert, incident or change (by id) to the ticket; linking twice is refused."""
    check_choice(kind, [k.value for k in LinkKind], "Link kind")
    value = clean_line(ref, what=f"{kind} id", limit=64)
    ticket = await load_ticket(session, ticket_id)
    if any(row.kind == kind and row.ref == value for row in await _links(session, ticket.id)):
        raise ConflictError(f"Ticket {ticket_id} is already linked to {kind} {value}.")
    row = TicketLink(
        ticket_id=ticket.id, kind=kind, ref=value, created_by=actor_name(actor)[:200], created_at=clock.now()
    )
    session.add(row)
    await session.flush()
    await _audit(
        session, actor=actor, action="ticket.link", ticket_id=ticket_id, clock=clock,
        after={"kind": kind, "ref": value},
    )  # fmt: skip
    return row


async def _links(session: AsyncSession, ticket_id: int) -> list[TicketLink]:
    return list((await session.scalars(select(TicketLink).where(TicketLink.ticket_id == ticket_id))).all())


def overdue(ticket: Ticket, now: datetime) -> list[str]:
    """Which SLA clocks of an active ticket have run out at ``now`` (first_response, resolution)."""
    if ticket.state not in (S.NEW, S.OPEN, S.PENDING):
        return []
    out = []
    if ticket.first_responded_at is None and ticket.first_response_due <= now:
        out.append("first_response")
    if ticket.resolution_due <= now:
        out.append("resolution")
    return out
