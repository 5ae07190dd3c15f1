"""Read models of the support queue: lists, one ticket with its thread, tickets over SLA.

:func:`over_sla` is what the daily operations meeting's agenda calls (the procedures domain receives
:func:`agenda_items` as a callable; it never imports this package).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.support.models import ACTIVE, Ticket, TicketComment, TicketLink, TicketState
from fictra.support.records import check_choice, load_ticket
from fictra.support.schemas import CommentView, LinkView, OverSla, SlaClock, TicketDetail, TicketSummary
from fictra.support.service import overdue

__all__ = ["MAX_LIMIT", "agenda_items", "list_tickets", "over_sla", "ticket_detail"]

MAX_LIMIT = 500
_DONE = (TicketState.SOLVED.value, TicketState.CLOSED.value)


def _clock(
    *, deadline: datetime, done_at: datetime | None, breached: bool, active: bool, now: datetime
) -> SlaClock:
    if done_at is not None:
        state = "met" if done_at <= deadline else "breached"
        return SlaClock(
            deadline=deadline, remaining_seconds=(deadline - done_at).total_seconds(), state=state
        )
    remaining = (deadline - now).total_seconds()
    if breached or remaining <= 0:
        return SlaClock(deadline=deadline, remaining_seconds=remaining, state="breached")
    return SlaClock(deadline=deadline, remaining_seconds=remaining, state="running" if active else "stopped")


def summary(t: Ticket, now: datetime) -> dict[str, object]:
    active = t.state in ACTIVE
    return {
        "id": t.id, "title": t.title, "requester_name": t.requester_name,
        "requester_email": t.requester_email,
        "participant": t.participant, "category": t.category, "priority": t.priority, "state": t.state,
        "source": t.source, "assignee": t.assignee, "created_at": t.created_at, "updated_at": t.updated_at,
        "first_response": _clock(
            deadline=t.first_response_due, done_at=t.first_responded_at,
            breached=t.first_response_breached_at is not None, active=active, now=now,
        ),
        "resolution": _clock(
            deadline=t.resolution_due, done_at=t.solved_at or t.closed_at,
            breached=t.resolution_breached_at is not None, active=active, now=now,
        ),
        "over_sla": overdue(t, now),
    }  # fmt: skip


async def list_tickets(
    session: AsyncSession,
    *,
    now: datetime,
    state: str | None = None,
    assignee: str | None = None,
    limit: int = 100,
) -> list[TicketSummary]:
    """Newest first; ``state`` filters (``active`` = new, open and pending)."""
    stmt = select(Ticket).order_by(Ticket.id.desc()).limit(max(1, min(limit, MAX_LIMIT)))
    if state == "active":
        stmt = stmt.where(Ticket.state.in_(ACTIVE))
    elif state is not None:
        check_choice(state, ["active", *(s.value for s in TicketState)], "State")
        stmt = stmt.where(Ticket.state == state)
    if assignee is not None:
        stmt = stmt.where(Ticket.assignee == assignee)
    rows = (await session.scalars(stmt)).all()
    return [TicketSummary.model_validate(summary(t, now)) for t in rows]


async def ticket_detail(
    session: AsyncSession, *, ticket_id: int, now: datetime, internal: bool = True
) -> TicketDetail:
    """The ticket with its comments (internal notes left out when ``internal`` is False) and links."""
    t = await load_ticket(session, ticket_id)
    comments: Sequence[TicketComment] = (
        await session.scalars(
            select(TicketComment).where(TicketComment.ticket_id == t.id).order_by(TicketComment.id)
        )
    ).all()
    links = (
        await session.scalars(select(TicketLink).where(TicketLink.ticket_id == t.id).order_by(TicketLink.id))
    ).all()
    return TicketDetail.model_validate(
        {
            **summary(t, now),
            "description": t.description,
            "created_by": t.created_by,
            "comments": [CommentView.model_validate(c) for c in comments if internal or c.kind != "internal"],
            "links": [LinkView.model_validate(x) for x in links],
        }
    )


async def over_sla(session: AsyncSession, now: datetime) -> list[OverSla]:
    """Active tickets whose first-response or resolution deadline is past at ``now`` (most urgent first)."""
    stmt = (
        select(Ticket)
        .where(Ticket.state.in_(ACTIVE))
        .where(
            or_(
                Ticket.resolution_due <= now,
                (Ticket.first_responded_at.is_(None)) & (Ticket.first_response_due <= now),
            )
        )
        .order_by(Ticket.priority, Ticket.id)
    )
    return [OverSla.of(t, overdue(t, now)) for t in (await session.scalars(stmt)).all()]


async def agenda_items(session: AsyncSession, now: datetime) -> list[str]:
    """One agenda line per ticket over SLA (for the daily operations meeting)."""
    return [
        f"ticket #{t.id} {t.priority} over SLA ({', '.join(t.clocks)}): {t.title} "
        f"[{t.state}, {t.assignee or 'unassigned'}]"
        for t in await over_sla(session, now)
    ]
