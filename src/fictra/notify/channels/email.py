"""Email over SMTP (aiosmtplib): STARTTLS, implicit TLS or plain, optional login."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate
from hashlib import sha256

import aiosmtplib

from fictra.notify.channels.base import DeliveryError, Secrets
from fictra.notify.config import EmailChannel
from fictra.notify.templates import Envelope, subject, text_body


def message_id(idempotency_key: str, domain: str) -> str:
    """An RFC 5322 msg-id, ``<id-left@domain>``: the notification's idempotency key hashed to dot-atom
    text (the key may hold characters a msg-id may not), so a retried delivery keeps its Message-ID."""
    return f"<fictra.{sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


class EmailSender:
    def __init__(self, channel: EmailChannel, secrets: Secrets) -> None:
        self.channel = channel
        self.secrets = secrets

    def build(self, envelope: Envelope) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.channel.sender
        direct = envelope.message.recipients
        if direct and not self.channel.direct:
            raise DeliveryError(
                f"Email channel '{self.channel.key}' does not send to a message's own recipients; "
                "set direct: true on it (receivers.yaml) to deliver support replies.",
                permanent=True,
            )
        msg["To"] = ", ".join(direct or self.channel.to)
        msg["Subject"] = envelope.message.subject if direct else subject(envelope)
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = message_id(envelope.idempotency_key, self.channel.message_id_domain)
        msg["X-Fictra-Idempotency-Key"] = envelope.idempotency_key
        msg["X-Fictra-Severity"] = envelope.message.severity
        msg.set_content(envelope.message.body if direct else text_body(envelope))
        return msg

    async def send(self, envelope: Envelope) -> None:
        ch = self.channel
        username = self.secrets.get("username", ch.username) if ch.username else None
        password = self.secrets.get("password", ch.password) if ch.password else None
        try:
            await aiosmtplib.send(
                self.build(envelope),
                hostname=ch.host,
                port=ch.port,
                username=username,
                password=password,
                use_tls=ch.security == "tls",
                start_tls=ch.security == "starttls",
                timeout=ch.timeout.total_seconds(),
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"SMTP {ch.host}:{ch.port} refused every recipient: {exc}", permanent=True
            ) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP {ch.host}:{ch.port} rejected the login: {exc.message}") from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {ch.host}:{ch.port} failed: {type(exc).__name__}: {exc}") from None
