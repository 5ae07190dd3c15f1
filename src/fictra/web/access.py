"""Who is looking at a console page, and what happens when nobody is signed in.

Pages use :func:`signed_in` (the auth module's ``current_actor``: session cookie or bearer token) and send
people without a session to the login page; htmx refreshes get a 401 so the script redirects the whole
page instead of swapping a login form into a table.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fictra.api.deps import PERMISSION_KEY, app_context
from fictra.auth.actor import Actor
from fictra.errors import AuthenticationError
from fictra.web.templating import render


async def signed_in(request: Request) -> Actor | None:
    from fictra.auth.deps import current_actor

    try:
        return await current_actor(request)
    except AuthenticationError:
        return None


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def safe_next(value: str | None) -> str:
    """Only local paths (``/alerts?x``), never ``//host`` or ``http://``: no open redirect after login."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def to_login(request: Request) -> Response:
    if is_htmx(request):
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(safe_next(target))}", status_code=303)


def csrf_for(request: Request) -> str:
    from fictra.auth.deps import csrf_token

    return csrf_token(request)


def page(
    request: Request, actor: Actor, name: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render ``name`` for ``actor`` with what every page needs (actor, csrf token, now)."""
    ctx = app_context(request)
    context.setdefault("now", ctx.clock.now())
    html = render(name, actor=actor, csrf=csrf_for(request), **context)
    return HTMLResponse(html, status_code=status_code)


def needs(permission: str) -> dict[str, Any]:
    """Route keyword arguments declaring the permission a console route checks in its handler (it answers
    with the console's HTML login redirect / "Not allowed" page rather than the API's JSON errors), so
    the permission matrix holds every role to it: ``@router.get("/charts", **needs("metrics.read"))``."""
    from fictra.auth.permissions import PERMISSIONS

    if permission not in PERMISSIONS:
        raise ValueError(f"Unknown permission '{permission}': add it to fictra.auth.permissions.PERMISSIONS.")
    return {"openapi_extra": {PERMISSION_KEY: permission}}


def forbidden(request: Request, actor: Actor, permission: str) -> HTMLResponse:
    return page(
        request,
        actor,
        "error.html",
        status_code=403,
        page="",
        heading="Not allowed",
        message=f"Your role ({', '.join(actor.roles)}) does not have the permission '{permission}'. "
        "Ask an administrator if you need it.",
    )


def form_expired() -> HTMLResponse:
    """A POST whose CSRF token does not match the session (an old tab, a forged form)."""
    html = render(
        "error.html",
        actor=None,
        csrf="",
        page="",
        heading="Form expired",
        message="The form's security token did not match your session. Reload the page and try again.",
    )
    return HTMLResponse(html, status_code=403)


def not_found(request: Request, actor: Actor, *, page_name: str, heading: str, message: str) -> HTMLResponse:
    """The console's 404 page for an object that does not exist (``message``: the service's words)."""
    return page(
        request, actor, "error.html", status_code=404, page=page_name, heading=heading, message=message
    )
