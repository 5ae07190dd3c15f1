"""The console on the API's plumbing: the same permission dependency, the same status for every error, only
the rendering differs.

A page declares its permission exactly as an API route does, with :func:`fictra.api.deps.guarded` (the
auth module's ``require(permission)`` dependency, published as ``x-permission`` for the permission
matrix), and receives the signed-in actor as :data:`SignedIn`:

    router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)

    @router.get("/alerts", **guarded("alerts.read"))
    async def alerts_page(request: Request, actor: SignedIn) -> Response: ...

Where the API answers a refusal in JSON, :class:`ConsoleRoute` answers in HTML (:func:`refusal`): no
credentials -> the login page (htmx refreshes: 401 with ``HX-Redirect`` so the whole page moves), a
one-time password not changed yet -> the password page, a form without its CSRF token -> "Form expired",
any other error -> the error page with the status :func:`fictra.api.errors.status_for` gives the API and
the same message and request id.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute

from fictra.api.deps import app_context
from fictra.api.errors import REQUEST_ID_HEADER, problem_of
from fictra.auth.actor import Actor
from fictra.auth.deps import CsrfRejected, PasswordChangeRequired, csrf_token, current_actor
from fictra.errors import AuthenticationError, FictraError
from fictra.web.templating import render

SignedIn = Annotated[Actor, Depends(current_actor)]
PASSWORD_PAGE = "/account/password"  # noqa: S105 (a path, not a password)
HEADINGS = {
    400: "Bad request",
    401: "Sign in first",
    403: "Not allowed",
    404: "Not found",
    409: "Not possible now",
    413: "Too large",
    422: "Invalid request",
    503: "Unavailable",
}
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def safe_next(value: str | None) -> str:
    """Only local paths (``/alerts?x``), never ``//host`` or ``http://``: no open redirect after login."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _here(request: Request) -> str:
    return safe_next(request.url.path + (f"?{request.url.query}" if request.url.query else ""))


def _moved(request: Request, target: str, *, htmx_status: int) -> Response:
    if is_htmx(request):
        return Response(status_code=htmx_status, headers={"HX-Redirect": target.split("?")[0]})
    return RedirectResponse(target, status_code=303)


def to_login(request: Request) -> Response:
    return _moved(request, f"/login?next={quote(_here(request))}", htmx_status=401)


def to_password(request: Request) -> Response:
    """Where a user with a one-time password is sent from every page until they change it."""
    here = _here(request)
    plain = here in ("/", PASSWORD_PAGE) or here.startswith(("/login", "/account/"))
    target = PASSWORD_PAGE if plain else f"{PASSWORD_PAGE}?next={quote(here)}"
    return _moved(request, target, htmx_status=403)


def page(
    request: Request, actor: Actor | None, name: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render ``name`` for ``actor`` with what every page needs (actor, csrf token, now)."""
    ctx = app_context(request)
    context.setdefault("now", ctx.clock.now())
    html = render(name, actor=actor, csrf=csrf_token(request), **context)
    return HTMLResponse(html, status_code=status_code)


def acting(request: Request) -> Actor | None:
    """The actor already resolved for this request (by the route's permission dependency), if any."""
    found = getattr(request.state, "actor", None)
    return found if isinstance(found, Actor) else None


def error_page(
    request: Request,
    exc: FictraError | RequestValidationError | OverflowError,
    *,
    page_name: str = "",
    heading: str | None = None,
) -> HTMLResponse:
    """The console's page for an error: the API's status, message and request id for it."""
    status, detail = problem_of(request, exc)
    message = detail.message
    if status == 403:
        message += " Ask an administrator if you need it."
    response = page(
        request,
        acting(request),
        "error.html",
        status_code=status,
        page=page_name,
        heading=heading or HEADINGS.get(status, "Error"),
        message=message,
        request_id=detail.request_id,
    )
    response.headers[REQUEST_ID_HEADER] = detail.request_id
    return response


def form_expired(request: Request) -> HTMLResponse:
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


def refusal(request: Request, exc: FictraError | RequestValidationError | OverflowError) -> Response:
    """How the console answers what the API answers with a JSON error."""
    if isinstance(exc, AuthenticationError):
        return to_login(request)
    if isinstance(exc, PasswordChangeRequired):
        return to_password(request)
    if isinstance(exc, CsrfRejected):
        return form_expired(request)
    return error_page(request, exc)


class ConsoleRoute(APIRoute):
    """A console route: the same dependencies as the API's routes, errors rendered by :func:`refusal`
    instead of the API's JSON handlers."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (FictraError, RequestValidationError, OverflowError) as exc:
                return refusal(request, exc)

        return console_handler
