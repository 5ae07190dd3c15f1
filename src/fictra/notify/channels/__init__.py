"""Channels: one sender per channel type behind the :class:`~fictra.notify.channels.base.Sender` protocol."""

from __future__ import annotations

from pathlib import Path

import httpx

from fictra.clock import Clock
from fictra.notify.channels.apprise import AppriseSender
from fictra.notify.channels.base import DeliveryError, Secrets, Sender
from fictra.notify.channels.email import EmailSender
from fictra.notify.channels.log import LogSender
from fictra.notify.channels.opsgenie import OpsgenieSender
from fictra.notify.channels.pagerduty import PagerDutySender
from fictra.notify.channels.webhook import WebhookSender
from fictra.notify.config import (
    AppriseChannel,
    ChannelConfig,
    EmailChannel,
    LogChannel,
    OpsgenieChannel,
    PagerDutyChannel,
    WebhookChannel,
)

__all__ = ["DeliveryError", "Sender", "build_sender"]


def build_sender(
    *, receiver: str, channel: ChannelConfig, base_dir: Path, http: httpx.AsyncClient, clock: Clock
) -> Sender:
    secrets = Secrets(base_dir=base_dir, where=f"receivers.yaml:{receiver}.{channel.key}")
    match channel:
        case LogChannel():
            return LogSender(channel)
        case EmailChannel():
            return EmailSender(channel, secrets)
        case WebhookChannel():
            return WebhookSender(channel, secrets, http=http, clock=clock)
        case AppriseChannel():
            return AppriseSender(channel, secrets)
        case PagerDutyChannel():
            return PagerDutySender(channel, secrets, http=http)
        case OpsgenieChannel():
            return OpsgenieSender(channel, secrets, http=http)
