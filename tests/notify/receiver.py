"""A real HTTP receiver on 127.0.0.1 for channel tests: fails the first N requests with 500, verifies
webhook signatures, and counts deliveries per idempotency key (what a well-behaved receiver dedups)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from fictra.notify.channels.webhook import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, verify_signature


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    query: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    fail_first: int = 0
    status: int = 200
    secret: str | None = None
    now: Callable[[], float] = time.time
    validate: Callable[[Received], str | None] | None = None
    requests: list[Received] = field(default_factory=list)
    delivered: dict[str, int] = field(default_factory=dict)  # idempotency key -> accepted deliveries
    hold: Any = None  # an asyncio.Event: requests wait on it before answering
    url: str = ""
    _runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        got = Received(request.path, dict(request.headers), body, dict(request.query))
        self.requests.append(got)
        if self.hold is not None:
            await self.hold.wait()
        if len(self.requests) <= self.fail_first:
            return web.Response(status=500, text="temporarily broken")
        if self.secret is not None:
            sig = request.headers.get(SIGNATURE_HEADER, "")
            if not verify_signature(self.secret, sig, body, now=self.now()):
                return web.Response(status=401, text="bad signature")
        if self.validate is not None:
            problem = self.validate(got)
            if problem:
                return web.Response(status=400, text=problem)
        key = request.headers.get(IDEMPOTENCY_HEADER) or _body_key(got)
        self.delivered[key] = self.delivered.get(key, 0) + 1
        return web.Response(status=self.status, text='{"status":"success"}', content_type="application/json")

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def _body_key(got: Received) -> str:
    try:
        data = got.json
    except ValueError:
        return got.path
    if isinstance(data, dict):
        return str(data.get("dedup_key") or data.get("alias") or data.get("title") or got.path)
    return got.path
