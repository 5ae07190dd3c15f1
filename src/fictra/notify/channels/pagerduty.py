"""PagerDuty Events API v2 (https://developer.pagerduty.com/api-reference/368ae3d938c9e-send-an-event-to-pager-duty)."""

from __future__ import annotations

import httpx

from fictra.notify.channels.base import Secrets, post_json
from fictra.notify.config import PagerDutyChannel
from fictra.notify.templates import Envelope, pagerduty_event


class PagerDutySender:
    def __init__(self, channel: PagerDutyChannel, secrets: Secrets, *, http: httpx.AsyncClient) -> None:
        self.channel = channel
        self.secrets = secrets
        self.http = http

    async def send(self, envelope: Envelope) -> None:
        ch = self.channel
        key = self.secrets.get("routing_key", ch.routing_key)
        event = pagerduty_event(envelope, routing_key=key, source=ch.source)
        url = self.secrets.get("url", ch.url)
        await post_json(
            self.http, url=url, body=event, headers={}, seconds=ch.timeout.total_seconds(), ok=(202,)
        )
