"""Security headers on every HTTP response (API, console, errors, static files).

- ``Content-Security-Policy``: scripts only from this origin (the console has no inline script or
  ``on*=`` handler; the API docs page loads its init script as a file), no plugins, no framing
  (``frame-ancestors 'none'``), forms post only here. Styles allow inline (``style=`` attributes, and
  htmx's indicator style) — no script runs from a style.
- ``X-Frame-Options: DENY`` (older browsers), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer``, ``Cross-Origin-Opener-Policy: same-origin``.
- ``Cache-Control: no-store`` on everything except what sets its own (static assets): pages and API
  answers hold data behind a login, and a shared or back-button cache must not keep them.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
_OURS = {name for name, _ in HEADERS}


class SecurityHeadersMiddleware:
    """Pure ASGI: adds :data:`HEADERS` (replacing any a route set) and ``Cache-Control: no-store`` when
    the response sets no Cache-Control of its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _OURS]
                headers.extend(HEADERS)
                if not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
