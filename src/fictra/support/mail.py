"""Inbound mail parsed with the stdlib ``email`` package: subject -> title, body -> description,
From -> requester, and the thread (Message-ID, In-Reply-To, References, ``[#123]`` in the subject).

:func:`parse_mail` refuses, naming the reason, a message over the size limit, one whose headers are
malformed (a header line without a colon, an unparsable From), or one without a readable text body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.errors import HeaderParseError, MessageError, MissingHeaderBodySeparatorDefect
from email.message import EmailMessage
from email.utils import getaddresses

from fictra.errors import UsageError
from fictra.support.records import BODY_MAX, clean_email
from fictra.text import safe_line, strip_controls

__all__ = ["InboundMail", "parse_mail"]

_TICKET_REF = re.compile(r"\[#(\d{1,9})\]")
_MSG_ID = re.compile(r"<([^<>\s]{1,250})>")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class InboundMail:
    subject: str
    body: str
    from_name: str
    from_email: str
    message_id: str | None
    ticket_ref: int | None
    thread_ids: tuple[str, ...] = field(default=())  # In-Reply-To and References, oldest first


def _ids(value: str | None) -> list[str]:
    return [m.group(1) for m in _MSG_ID.finditer(value or "")]


def _body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        raise UsageError("The message has no text body (text/plain or text/html); write the request as text.")
    try:
        content = part.get_content()
    except (LookupError, ValueError, MessageError) as exc:
        raise UsageError(
            f"The message body cannot be decoded ({type(exc).__name__}); send it as UTF-8 text."
        ) from None
    if not isinstance(content, str):
        raise UsageError("The message body is not text; write the request as text.")
    if part.get_content_subtype() == "html":
        content = _TAG.sub(" ", content)
    return strip_controls(content).strip()[:BODY_MAX]


def parse_mail(raw: bytes, *, max_bytes: int) -> InboundMail:
    """One message from its raw bytes; UsageError naming what is wrong with it."""
    if len(raw) > max_bytes:
        raise UsageError(f"The message is {len(raw)} bytes; the support intake accepts at most {max_bytes}.")
    try:
        msg = message_from_bytes(raw, policy=policy.default)
        if not isinstance(msg, EmailMessage):
            raise UsageError("The message could not be parsed as an email.")
        if any(isinstance(d, MissingHeaderBodySeparatorDefect) for d in msg.defects):
            raise UsageError("The message's headers are malformed (a header line without 'Name: value').")
        senders = msg.get_all("From") or []
        if len(senders) != 1:
            raise UsageError(f"The message needs exactly one From header (it has {len(senders)}).")
        pairs = getaddresses([str(senders[0])])
        subject_raw = str(msg.get("Subject", "") or "")
        message_id = next(iter(_ids(str(msg.get("Message-ID", "") or ""))), None)
        thread = _ids(str(msg.get("References", "") or "")) + _ids(str(msg.get("In-Reply-To", "") or ""))
    except (HeaderParseError, MessageError, IndexError, ValueError) as exc:
        raise UsageError(f"The message's headers are malformed ({type(exc).__name__}).") from None
    if len(pairs) != 1 or not pairs[0][1]:
        raise UsageError("The message's From header names no single address.")
    name, address = pairs[0]
    email = clean_email(address, what="From address")
    subject = safe_line(subject_raw)[:300] or "(no subject)"
    ref = _TICKET_REF.search(subject)
    body = _body(msg)
    return InboundMail(
        subject=subject,
        body=body or "(empty message)",
        from_name=safe_line(name)[:200] or email.split("@", 1)[0],
        from_email=email,
        message_id=message_id,
        ticket_ref=int(ref.group(1)) if ref else None,
        thread_ids=tuple(dict.fromkeys(thread)),
    )
