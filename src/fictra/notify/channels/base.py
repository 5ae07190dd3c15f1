"""What every channel shares: the Sender protocol, DeliveryError, late secret resolution, HTTP posting."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from fictra.config.fields import resolve_secret
from fictra.errors import ConfigError, redact_url
from fictra.notify.templates import Envelope

_RETRYABLE_STATUS = {408, 425, 429}


class DeliveryError(Exception):
    """A failed attempt. ``permanent`` failures (the far end refuses the request as malformed or
    unauthorized) go straight to the dead letters; others are retried. The message never holds a secret."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, envelope: Envelope) -> None:
        """Deliver ``envelope`` or raise :class:`DeliveryError`."""


@dataclass(frozen=True, slots=True)
class Secrets:
    """Resolves secret references when sending (so a rotated env var or file is picked up)."""

    base_dir: Path
    where: str

    def get(self, key: str, ref: str) -> str:
        try:
            return resolve_secret(ref, base_dir=self.base_dir, where=f"{self.where}.{key}").get_secret_value()
        except ConfigError as exc:
            raise DeliveryError(exc.user_message) from None


async def post_json(
    http: httpx.AsyncClient,
    *,
    url: str,
    body: Any,
    headers: dict[str, str],
    seconds: float,
    ok: tuple[int, ...] = (200, 201, 202, 204),
) -> httpx.Response:
    """POST ``body`` as JSON; 2xx (``ok``) passes, 408/425/429/5xx and network errors are retryable,
    other statuses permanent."""
    data = json.dumps(body, separators=(",", ":"), default=str).encode()
    return await post_bytes(http, url=url, data=data, headers=headers, seconds=seconds, ok=ok)


async def post_bytes(
    http: httpx.AsyncClient,
    *,
    url: str,
    data: bytes,
    headers: dict[str, str],
    seconds: float,
    ok: tuple[int, ...] = (200, 201, 202, 204),
) -> httpx.Response:
    where = redact_url(url)
    try:
        response = await http.post(
            url, content=data, headers={"Content-Type": "application/json", **headers}, timeout=seconds
        )
    except httpx.TimeoutException:
        raise DeliveryError(f"POST {where} timed out after {seconds:g}s") from None
    except httpx.HTTPError as exc:
        raise DeliveryError(f"POST {where} failed: {type(exc).__name__}: {exc}") from None
    if response.status_code in ok:
        return response
    snippet = response.text[:200].replace("\n", " ")
    permanent = 400 <= response.status_code < 500 and response.status_code not in _RETRYABLE_STATUS
    raise DeliveryError(f"POST {where} answered HTTP {response.status_code}: {snippet}", permanent=permanent)
