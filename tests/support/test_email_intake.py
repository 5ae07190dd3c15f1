"""Tickets by email through a real SMTP connection (aiosmtplib client -> the aiosmtpd intake server) on
SQLite and PostgreSQL: a new ticket, a reply on its thread becoming a comment, and bad input refused."""

from __future__ import annotations

from email.message import EmailMessage

import aiosmtplib
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.audit.service import list_entries
from fictra.errors import UsageError
from fictra.support.intake import SmtpIntake
from fictra.support.mail import parse_mail
from fictra.support.models import Ticket, TicketComment

from .conftest import support_config


def _mail(
    subject: str, body: str, *, sender: str = "Ada Lovelace <ada@bank.example>", **headers: str
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@fictra.example"
    msg["Subject"] = subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg


async def _send(intake: SmtpIntake, msg: EmailMessage) -> str:
    _, reply = await aiosmtplib.send(msg, hostname="127.0.0.1", port=intake.port, timeout=10)
    return reply


async def test_an_email_opens_a_ticket_and_a_reply_joins_its_thread(
    intake: SmtpIntake, sessions: async_sessionmaker[AsyncSession]
) -> None:
    first = _mail(
        "Settlement \u202etxt.exe stuck",
        "Our settlement of 2026-01-01 is pending.\x1b[31m\nPlease check.",
        Message_ID="<m1@bank.example>",
    )
    reply = await _send(intake, first)
    async with sessions() as s:
        ticket = (await s.scalars(select(Ticket))).one()
    assert reply == f"2.0.0 Ticket #{ticket.id}"
    assert ticket.title == "Settlement txt.exe stuck"  # the bidi override is gone
    assert ticket.description == "Our settlement of 2026-01-01 is pending.[31m\nPlease check."
    assert (ticket.requester_name, ticket.requester_email) == ("Ada Lovelace", "ada@bank.example")
    assert (ticket.source, ticket.state, ticket.priority, ticket.category) == (
        "email",
        "new",
        "P3",
        "general",
    )
    assert ticket.thread_id == "m1@bank.example"

    # the same message again (a relay retry) is filed once
    assert await _send(intake, first) == f"2.0.0 Ticket #{ticket.id}"
    # a reply by its subject tag from the requester, and one by In-Reply-To, become comments
    await _send(intake, _mail(f"Re: [#{ticket.id}] Settlement", "Any news?", Message_ID="<m2@bank.example>"))
    await _send(
        intake,
        _mail("Re: stuck", "Also ref 42.", sender="ops@bank.example", In_Reply_To="<m1@bank.example>"),
    )
    # the subject tag from someone else is not enough: a new ticket
    other = await _send(intake, _mail(f"[#{ticket.id}] hijack", "hello", sender="eve@evil.example"))
    async with sessions() as s:
        tickets = (await s.scalars(select(Ticket).order_by(Ticket.id))).all()
        comments = (await s.scalars(select(TicketComment).order_by(TicketComment.id))).all()
        audit = await list_entries(s, target=f"ticket:{ticket.id}")
    assert len(tickets) == 2 and other == f"2.0.0 Ticket #{tickets[1].id}"
    assert tickets[1].requester_email == "eve@evil.example"
    assert [(c.ticket_id, c.kind, c.author, c.body) for c in comments] == [
        (ticket.id, "inbound", "ada@bank.example", "Any news?"),
        (ticket.id, "inbound", "ops@bank.example", "Also ref 42."),
    ]
    assert [e.action for e in reversed(audit)] == ["ticket.create", "ticket.inbound", "ticket.inbound"]


async def test_a_huge_email_is_refused_by_the_server(intake: SmtpIntake) -> None:
    big = _mail("Big", "x" * 10_000)
    with pytest.raises(aiosmtplib.SMTPResponseException) as exc:
        await _send(intake, big)
    assert exc.value.code == 552


async def test_malformed_headers_are_refused_with_the_reason(intake: SmtpIntake) -> None:
    raw = b"From: ada@bank.example\r\nThis line has no colon\r\nSubject: hi\r\n\r\nbody\r\n"
    with pytest.raises(aiosmtplib.SMTPDataError) as exc:
        await aiosmtplib.send(
            raw,
            sender="ada@bank.example",
            recipients=["support@fictra.example"],
            hostname="127.0.0.1",
            port=intake.port,
        )
    assert exc.value.code == 550
    assert "headers are malformed" in exc.value.message


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"Subject: no sender\r\n\r\nbody", "exactly one From header (it has 0)"),
        (b"From: not an address\r\nSubject: x\r\n\r\nbody", "From address 'not an address' is not an email"),
        (b"From: a@b.example\r\nFrom: c@d.example\r\n\r\nbody", "exactly one From header (it has 2)"),
        (b"From: a@b.example\r\nSubject: x\r\n\r\n" + b"y" * 5000, "the support intake accepts at most 4096"),
    ],
)
def test_bad_messages_are_refused_naming_the_problem(raw: bytes, reason: str) -> None:
    with pytest.raises(UsageError) as exc:
        parse_mail(raw, max_bytes=support_config().intake.max_bytes)
    assert reason in exc.value.user_message
