"""Generic webhooks: JSON body, idempotency key header, HMAC-SHA256 signature over timestamp + body.

Header ``X-Fictra-Signature: t=<unix seconds>,v1=<hex hmac_sha256(secret, "<t>." + body)>``; receivers
check it with :func:`verify_signature` (constant-time, with a replay window).
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from fictra.clock import Clock
from fictra.notify.channels.base import DeliveryError, Secrets, post_bytes
from fictra.notify.config import WebhookChannel
from fictra.notify.templates import Envelope, webhook_payload

IDEMPOTENCY_HEADER = "X-Fictra-Idempotency-Key"
SIGNATURE_HEADER = "X-Fictra-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, header: str, body: bytes, *, now: float, tolerance: float = 300.0) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its timestamp is within ``tolerance``."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={given}")


class WebhookSender:
    def __init__(
        self, channel: WebhookChannel, secrets: Secrets, *, http: httpx.AsyncClient, clock: Clock
    ) -> None:
        self.channel = channel
        self.secrets = secrets
        self.http = http
        self.clock = clock

    async def send(self, envelope: Envelope) -> None:
        ch = self.channel
        url = self.secrets.get("url", ch.url)
        body = json.dumps(webhook_payload(envelope), separators=(",", ":"), default=str).encode()
        headers = {**ch.headers, IDEMPOTENCY_HEADER: envelope.idempotency_key, "User-Agent": "fictra-ops"}
        if ch.secret:
            key = self.secrets.get("secret", ch.secret)
            headers[SIGNATURE_HEADER] = sign(key, int(self.clock.now().timestamp()), body)
        if "://" not in url:
            raise DeliveryError(f"{self.secrets.where}.url does not resolve to a URL", permanent=True)
        await post_bytes(self.http, url=url, data=body, headers=headers, seconds=ch.timeout.total_seconds())
