"""Input checks shared by the support services: clean text, addresses, choices, loading a ticket."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.errors import NotFoundError, UsageError
from fictra.support.models import Ticket
from fictra.text import safe_line, strip_controls

__all__ = ["BODY_MAX", "check_choice", "clean_email", "clean_line", "clean_text", "load_ticket"]

BODY_MAX = 20_000
_EMAIL = re.compile(
    r"^[^@\s<>(),;:\"\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$"
)


def _no_nul(value: str, what: str) -> None:
    if "\x00" in value:
        raise UsageError(f"The {what} contains a NUL character; remove it.")


def clean_text(value: str | None, *, what: str, limit: int = BODY_MAX) -> str:
    """Multi-line text without control or bidi characters (newlines kept); refused when empty or long."""
    raw = value or ""
    _no_nul(raw, what)
    text = strip_controls(raw).strip()
    if not text:
        raise UsageError(f"The {what} is empty; write it out.")
    if len(text) > limit:
        raise UsageError(f"The {what} has {len(text)} characters; at most {limit} are allowed.")
    return text


def clean_line(value: str | None, *, what: str, limit: int = 300) -> str:
    """One line (controls stripped, whitespace flattened); refused when empty or longer than ``limit``."""
    raw = value or ""
    _no_nul(raw, what)
    text = safe_line(raw)
    if not text:
        raise UsageError(f"The {what} is empty; give one.")
    if len(text) > limit:
        raise UsageError(f"The {what} has {len(text)} characters; at most {limit} are allowed.")
    return text


def clean_email(value: str | None, *, what: str = "requester email") -> str:
    """A plain ``local@domain`` address (lowercased domain); UsageError naming the value otherwise."""
    raw = safe_line(value or "")
    if len(raw) > 320 or not _EMAIL.match(raw):
        shown = raw[:80]
        raise UsageError(f"The {what} '{shown}' is not an email address like name@example.org.")
    local, domain = raw.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def check_choice(value: str, choices: Sequence[str], what: str) -> str:
    if value not in choices:
        raise UsageError(f"{what} '{value}' is not one of: {', '.join(choices)}.")
    return value


async def load_ticket(session: AsyncSession, ticket_id: int) -> Ticket:
    ticket = await session.get(Ticket, ticket_id, populate_existing=True)
    if ticket is None:
        raise NotFoundError(
            f"No ticket with id {ticket_id}. List tickets with `fictra tickets list` or GET /api/v1/tickets."
        )
    return ticket
