"""ORM tables of the support queue.

``support_tickets``: one row per ticket, with its SLA deadlines stored on the row when it opens
(first response and resolution, from ``support.yaml`` by priority) and the times each breach was first
seen by the SLA job. ``support_comments``: public replies (sent through the outbox), internal notes and
inbound mail from the requester. ``support_links``: alerts, incidents and changes by id.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime

__all__ = ["CommentKind", "LinkKind", "Source", "Ticket", "TicketComment", "TicketLink", "TicketState"]


class TicketState(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"


ACTIVE = (TicketState.NEW.value, TicketState.OPEN.value, TicketState.PENDING.value)


class Source(StrEnum):
    API = "api"
    EMAIL = "email"
    CONSOLE = "console"


class CommentKind(StrEnum):
    PUBLIC = "public"  # a reply to the requester (sent by email)
    INTERNAL = "internal"  # a note for the team only
    INBOUND = "inbound"  # mail from the requester on the ticket's thread


class LinkKind(StrEnum):
    ALERT = "alert"
    INCIDENT = "incident"
    CHANGE = "change"


class Ticket(Base):
    __tablename__ = "support_tickets"
    __table_args__ = (Index("ix_support_tickets_state_priority", "state", "priority"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    requester_name: Mapped[str] = mapped_column(String(200))
    requester_email: Mapped[str] = mapped_column(String(320))
    participant: Mapped[str | None] = mapped_column(String(200), nullable=True)
    category: Mapped[str] = mapped_column(String(64))
    priority: Mapped[str] = mapped_column(String(4))
    state: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(200), nullable=True)
    thread_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_due: Mapped[datetime] = mapped_column(UTCDateTime)
    resolution_due: Mapped[datetime] = mapped_column(UTCDateTime)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    solved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolution_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TicketComment(Base):
    __tablename__ = "support_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("support_tickets.id", ondelete="CASCADE", name="fk_support_comments_ticket_id"),
        index=True,
    )
    kind: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(320))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    notification_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TicketLink(Base):
    __tablename__ = "support_links"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", "ref", name="uq_support_links_ticket_id_kind_ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("support_tickets.id", ondelete="CASCADE", name="fk_support_links_ticket_id")
    )
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
