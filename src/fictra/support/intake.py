"""Tickets by email: :func:`receive_mail` files a parsed message (a new ticket, or a comment on its
thread) and :class:`SmtpIntake` is the small inbound SMTP server (aiosmtpd) that feeds it.

A message continues a ticket when its In-Reply-To/References name the ticket's first message or one of
its comments, or when its subject carries ``[#<id>]`` and it comes from the ticket's requester; anything
else opens a new ticket. The same Message-ID twice is filed once. A reply from the requester moves a
pending or solved ticket back to open (audited). The server runs on the caller's event loop, bound to
the configured host (127.0.0.1 by default), and answers each message with the ticket number or with the
reason it was refused (550: malformed or too large; 451: try again later).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.audit.service import record
from fictra.clock import Clock
from fictra.errors import FictraError, UsageError
from fictra.support.config import SupportConfig
from fictra.support.mail import InboundMail, parse_mail
from fictra.support.models import CommentKind, Source, Ticket, TicketComment, TicketState
from fictra.support.service import add_comment, create_ticket
from fictra.text import safe_line

__all__ = ["SmtpIntake", "receive_mail"]

log = logging.getLogger(__name__)


async def _thread_ticket(session: AsyncSession, mail: InboundMail) -> Ticket | None:
    ids = list(mail.thread_ids)
    if ids:
        found = await session.scalar(
            select(Ticket).where(Ticket.thread_id.in_(ids)).order_by(Ticket.id).limit(1)
        )
        if found is not None:
            return found
        tid = await session.scalar(
            select(TicketComment.ticket_id).where(TicketComment.message_id.in_(ids)).limit(1)
        )
        if tid is not None:
            return await session.get(Ticket, tid)
    if mail.ticket_ref is not None:
        ticket = await session.get(Ticket, mail.ticket_ref)
        if ticket is not None and ticket.requester_email == mail.from_email:
            return ticket
    return None


async def _seen(session: AsyncSession, message_id: str | None) -> int | None:
    if message_id is None:
        return None
    tid = await session.scalar(select(Ticket.id).where(Ticket.thread_id == message_id))
    if tid is not None:
        return int(tid)
    found = await session.scalar(
        select(TicketComment.ticket_id).where(TicketComment.message_id == message_id).limit(1)
    )
    return None if found is None else int(found)


async def receive_mail(
    session: AsyncSession, *, mail: InboundMail, config: SupportConfig, clock: Clock
) -> tuple[int, bool]:
    """File ``mail``; returns (ticket id, True when a new ticket was opened)."""
    seen = await _seen(session, mail.message_id)
    if seen is not None:
        return seen, False
    actor = f"email:{mail.from_email}"
    ticket = await _thread_ticket(session, mail)
    if ticket is not None and ticket.state != TicketState.CLOSED:
        comment = await add_comment(
            session, ticket=ticket, kind=CommentKind.INBOUND, author=mail.from_email, body=mail.body,
            clock=clock, message_id=mail.message_id,
        )  # fmt: skip
        before = ticket.state
        if before in (TicketState.PENDING, TicketState.SOLVED):
            ticket.state = TicketState.OPEN.value
            ticket.solved_at = None
        await session.flush()
        await record(
            session, actor=actor, action="ticket.inbound", target=f"ticket:{ticket.id}", clock=clock,
            before={"state": before}, after={"state": ticket.state, "comment": comment.id},
        )  # fmt: skip
        return ticket.id, False
    created = await create_ticket(
        session,
        title=mail.subject,
        description=mail.body,
        requester_name=mail.from_name,
        requester_email=mail.from_email,
        category=config.intake.category,
        priority=config.intake.priority,
        source=Source.EMAIL.value,
        actor=actor,
        config=config,
        clock=clock,
        thread_id=mail.message_id,
    )
    return created.id, True


class _Handler:
    def __init__(self, intake: SmtpIntake) -> None:
        self.intake = intake

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes):
            raw = str(raw).encode("utf-8", "surrogateescape")
        try:
            mail = parse_mail(raw, max_bytes=self.intake.config.intake.max_bytes)
        except UsageError as exc:
            return f"550 5.6.0 {safe_line(exc.user_message)[:400]}"
        try:
            async with self.intake.sessions.begin() as db:
                ticket_id, created = await receive_mail(
                    db, mail=mail, config=self.intake.config, clock=self.intake.clock
                )
        except UsageError as exc:
            return f"550 5.6.0 {safe_line(exc.user_message)[:400]}"
        except FictraError as exc:
            log.warning("support intake could not file a message: %s", exc.user_message)
            return "451 4.3.0 The ticket could not be stored now; try again later."
        log.info("support intake: %s ticket #%d", "opened" if created else "updated", ticket_id)
        return f"250 2.0.0 Ticket #{ticket_id}"


class SmtpIntake:
    """The inbound SMTP server on the running event loop: ``await start()``, ``await stop()``."""

    def __init__(
        self, *, config: SupportConfig, sessions: async_sessionmaker[AsyncSession], clock: Clock
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.clock = clock
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one the system picked for port 0)."""
        if self._server is None or not self._server.sockets:
            return self.config.intake.port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, *, port: int | None = None) -> None:
        handler = _Handler(self)
        limit = self.config.intake.max_bytes
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(
                handler, data_size_limit=limit, hostname="fictra-support", ident="FICTRA support intake"
            ),
            host=self.config.intake.host,
            port=self.config.intake.port if port is None else port,
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
