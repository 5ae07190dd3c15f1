"""New-head notifications over a websocket ``eth_subscribe("newHeads")`` (Anvil serves it on its
HTTP port). The follower still polls at a slower pace, so a lost subscription only costs latency."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Sequence

from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from fictra.clock import Clock
from fictra.errors import redact_url

log = logging.getLogger(__name__)


def ws_url_for(http_url: str) -> str:
    """The websocket URL of an HTTP JSON-RPC endpoint (same host and port)."""
    if http_url.startswith("https://"):
        return "wss://" + http_url.removeprefix("https://")
    if http_url.startswith("http://"):
        return "ws://" + http_url.removeprefix("http://")
    return http_url


async def _subscribe_once(url: str, on_head: Callable[[int, str], None]) -> None:
    async with connect(url, open_timeout=5, close_timeout=1, max_size=2**22) as ws:
        await ws.send(
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": ["newHeads"]})
        )
        reply = json.loads(await asyncio.wait_for(ws.recv(), timeout=5))
        if "error" in reply:
            raise WebSocketException(f"eth_subscribe refused: {reply['error']}")
        async for message in ws:
            payload = json.loads(message)
            head = payload.get("params", {}).get("result") if isinstance(payload, dict) else None
            if isinstance(head, dict) and "number" in head:
                on_head(int(head["number"], 16), str(head.get("hash", "")).lower())


async def watch_new_heads(
    *,
    urls: Sequence[str],
    on_head: Callable[[int, str], None],
    clock: Clock,
    retry_after: float = 1.0,
    retry_max: float = 60.0,
) -> None:
    """Call ``on_head(number, hash)`` for every new head until cancelled; on failure rotate to the next
    endpoint, waiting ``retry_after`` doubling up to ``retry_max`` (reset once a head arrives)."""
    attempt = 0
    delay = retry_after

    def heard(number: int, block_hash: str) -> None:
        nonlocal delay
        delay = retry_after
        on_head(number, block_hash)

    while True:
        url = urls[attempt % len(urls)]
        try:
            await _subscribe_once(url, heard)
        except (OSError, TimeoutError, WebSocketException, ValueError) as exc:
            log.warning("newHeads subscription on '%s' failed: %s", redact_url(url), type(exc).__name__)
        attempt += 1
        await clock.sleep(delay)
        delay = min(delay * 2, retry_max)
