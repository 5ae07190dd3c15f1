"""The hostile-input boundary of the HTTP app: checks every request before any router, parser or
dependency sees it.

- **Body size**, per route class (:data:`BODY_LIMITS`, first prefix that matches): a ``Content-Length``
  over the limit is refused at once, a chunked body as soon as it passes the limit -> 413.
- **JSON nesting depth** (:data:`MAX_JSON_DEPTH`): every body a JSON parser would read (no content type,
  ``application/json``, ``*+json``) is scanned as bytes before anything parses it -> 422 naming the limit.
  The scan is exact for valid JSON up to the first syntax error, and a parser stops there.
- **Integers in the path and query**: a decimal number outside the signed 64-bit range (the database's
  BIGINT) -> 422, so no id or duration reaches ``int()``/SQL as an ``OverflowError``.
- **The recursion limit**: :func:`cap_recursion_limit` (run when the app is built and before each request)
  undoes ``py_ecc``'s ``sys.setrecursionlimit(100000)`` (imported through ``eth_account``), under which a
  deep document overflows the C stack (SIGSEGV) instead of raising ``RecursionError``.

Form posts (``application/x-www-form-urlencoded``, ``multipart/form-data``) get the size limit only.
The answers use the API's one error shape (:mod:`fictra.api.errors`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from itertools import accumulate
from typing import Annotated

from fastapi import Path, Query
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Each nesting level of the C JSON scanner (and of repr, pickle...) takes ~100-170 bytes of C stack. 5,000
# levels is < 1 MB: safe on the main thread (8 MB) and on worker threads even at glibc's 2 MB default for an
# unlimited stack rlimit, while still 5x CPython's own default of 1,000 (nothing of ours recurses deeper).
SAFE_RECURSION_LIMIT = 5_000
MAX_JSON_DEPTH = 64
INT64_MAX = 2**63 - 1
KIB = 1024
MIB = 1024 * KIB
# (path prefix, max body bytes): the first that matches wins; the last is the default.
BODY_LIMITS: tuple[tuple[str, int], ...] = (
    ("/api/v1/auth/", 16 * KIB),
    ("/login", 16 * KIB),
    ("/api/v1/inbound/", 8 * MIB),  # Alertmanager batches (fictra.notify.inbound.MAX_ALERTS alerts)
    ("/api/v1/oncall/", 4 * MIB),  # iCalendar imports (the route itself refuses over 2 MB)
    ("", 1 * MIB),
)
_BODY_METHODS = frozenset({b"POST", b"PUT", b"PATCH", b"DELETE"})
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")
_BIG_INT = re.compile(r"(?<![\w.])[+-]?\d{19,}(?![\w.])")
_KEEP_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1

# Bounded integers for path and query parameters (use these in routers: ``alert_id: Id``).
Id = Annotated[int, Path(ge=1, le=INT64_MAX)]
QueryId = Annotated[int | None, Query(ge=1, le=INT64_MAX)]


def cap_recursion_limit() -> int:
    """Bring the interpreter's recursion limit back to :data:`SAFE_RECURSION_LIMIT` if something raised
    it above (never lower it further); returns the limit in force."""
    if sys.getrecursionlimit() > SAFE_RECURSION_LIMIT:
        sys.setrecursionlimit(SAFE_RECURSION_LIMIT)
    return sys.getrecursionlimit()


def body_limit(path: str) -> int:
    for prefix, limit in BODY_LIMITS:
        if path.startswith(prefix):
            return limit
    return BODY_LIMITS[-1][1]


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays/objects in ``body`` (JSON), without parsing it: escapes are dropped,
    string contents cut out, and the brackets left are counted. C-speed steps except the last, which runs
    over the brackets only."""
    if not body:
        return 0
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(body.split(b'"')[::2]) if b'"' in body else body
    brackets = outside.translate(None, delete=_KEEP_BRACKETS)
    if not brackets:
        return 0
    return max(0, max(accumulate(_STEP[b] for b in brackets)))


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or media.endswith(("/json", "+json"))


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def out_of_range(values: Iterable[str]) -> str | None:
    """The first decimal number in ``values`` outside the signed 64-bit range, or None."""
    for value in values:
        for match in _BIG_INT.finditer(value):
            if abs(int(match.group())) > INT64_MAX:
                return match.group()
    return None


async def _refuse(scope: Scope, send: Send, *, status: int, message: str) -> None:
    rid = str(scope.get("state", {}).get("request_id", "-"))
    code = "invalid"
    body = json.dumps({"error": {"code": code, "message": message, "request_id": rid}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 413:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class HostileInputMiddleware:
    """Pure ASGI: size, depth and integer-range checks before the app runs (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth
        cap_recursion_limit()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap_recursion_limit()  # a C call; catches an eth stack imported lazily since the last request
        path: str = scope.get("path", "")
        query = scope.get("query_string", b"").decode("latin-1")
        if big := out_of_range([path, query]):
            shown = big if len(big) <= 40 else big[:37] + "..."
            problem = f"The number {shown} in the URL is out of range (at most {INT64_MAX})."
            await _refuse(scope, send, status=422, message=problem)
            return
        if scope.get("method", "GET").encode() not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = body_limit(path)
        too_large = f"The request body is larger than {limit} bytes, the limit for {path or '/'}."
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(scope, send, status=413, message=too_large)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(scope, send, status=413, message=too_large)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        content_type = _header(scope, b"content-type")
        if not content_type.lower().startswith(_FORMS) and _is_json(content_type):
            depth = json_depth(body)
            if depth > self.max_depth:
                await _refuse(
                    scope,
                    send,
                    status=422,
                    message=f"The JSON body is nested {depth} levels deep; the limit is {self.max_depth}.",
                )
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
