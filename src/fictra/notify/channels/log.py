"""The log channel: writes the notification to the platform log (the zero-set-up default)."""

from __future__ import annotations

import logging

from fictra.notify.config import LogChannel
from fictra.notify.templates import Envelope, subject

log = logging.getLogger("fictra.notify")
_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class LogSender:
    def __init__(self, channel: LogChannel) -> None:
        self.level = _LEVELS[channel.level]

    async def send(self, envelope: Envelope) -> None:
        link = f" {envelope.link}" if envelope.link else ""
        log.log(
            self.level,
            "notification %s to %s: %s%s",
            envelope.idempotency_key,
            envelope.receiver,
            subject(envelope),
            link,
        )
