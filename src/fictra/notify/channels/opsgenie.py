"""Opsgenie Alert API: create (POST /v2/alerts); close or acknowledge by alias
(POST /v2/alerts/{alias}/close | /acknowledge ?identifierType=alias)."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from fictra.notify.channels.base import Secrets, post_json
from fictra.notify.config import OpsgenieChannel
from fictra.notify.templates import Envelope, opsgenie_alert


class OpsgenieSender:
    def __init__(self, channel: OpsgenieChannel, secrets: Secrets, *, http: httpx.AsyncClient) -> None:
        self.channel = channel
        self.secrets = secrets
        self.http = http

    async def send(self, envelope: Envelope) -> None:
        ch = self.channel
        headers = {"Authorization": f"GenieKey {self.secrets.get('api_key', ch.api_key)}"}
        base = self.secrets.get("url", ch.url).rstrip("/")
        timeout = ch.timeout.total_seconds()
        status = envelope.message.status
        if status in ("resolved", "acknowledged"):
            alias = quote(envelope.group_key[:512], safe="")
            verb = "close" if status == "resolved" else "acknowledge"
            url = f"{base}/v2/alerts/{alias}/{verb}?identifierType=alias"
            body = {"source": "FICTRA Ops", "note": envelope.message.subject[:25000]}
            await post_json(self.http, url=url, body=body, headers=headers, seconds=timeout, ok=(202,))
            return
        body = opsgenie_alert(envelope, tags=ch.tags, responders=ch.responders)
        await post_json(
            self.http, url=f"{base}/v2/alerts", body=body, headers=headers, seconds=timeout, ok=(202,)
        )
