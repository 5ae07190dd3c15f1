"""Chat and push channels through Apprise (Slack, Teams, Telegram, Discord, Matrix, ntfy, json://...)."""

from __future__ import annotations

import contextlib
import warnings

import apprise

from fictra.notify.channels.base import DeliveryError, Secrets
from fictra.notify.config import AppriseChannel
from fictra.notify.templates import Envelope, apprise_type, subject, text_body

# Apprise's email plugin imports the stdlib ``imghdr`` (deprecated since 3.11, warns on import); load it
# once here, quietly, so the warning does not surface on the first notification.
with warnings.catch_warnings(), contextlib.suppress(ImportError):
    warnings.simplefilter("ignore", DeprecationWarning)
    import imghdr  # noqa: F401

_TYPES = {
    "info": apprise.NotifyType.INFO,
    "success": apprise.NotifyType.SUCCESS,
    "warning": apprise.NotifyType.WARNING,
    "failure": apprise.NotifyType.FAILURE,
}


class AppriseSender:
    def __init__(self, channel: AppriseChannel, secrets: Secrets) -> None:
        self.channel = channel
        self.secrets = secrets

    async def send(self, envelope: Envelope) -> None:
        notifier = apprise.Apprise()
        for i, ref in enumerate(self.channel.urls):
            url = self.secrets.get(f"urls.{i}", ref)
            if not notifier.add(url):
                raise DeliveryError(
                    f"{self.secrets.where}.urls.{i} is not a URL Apprise understands; check its schema",
                    permanent=True,
                )
        ok = await notifier.async_notify(
            body=text_body(envelope), title=subject(envelope), notify_type=_TYPES[apprise_type(envelope)]
        )
        if not ok:
            raise DeliveryError(
                f"Apprise could not deliver to {self.secrets.where} (see the log for the service)"
            )
