"""The login form and logout. Passwords are checked by :func:`fictra.auth.service.login` (argon2,
attempts recorded, lockout); this module only sets the cookies and shows the outcome.

The login form itself is CSRF-protected before any session exists (double submit: a random token in a
``fictra_csrf`` cookie and the form), so another site cannot sign a browser in to an account of its own.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from fictra.api.deps import app_context
from fictra.auth.actor import Actor
from fictra.auth.deps import CSRF_COOKIE, SESSION_COOKIE, auth_env, current_actor, source_of
from fictra.auth.service import login as check_login
from fictra.auth.sessions import revoke_session
from fictra.errors import AuthenticationError, FictraError
from fictra.web.access import PASSWORD_PAGE, ConsoleRoute, safe_next
from fictra.web.templating import render

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)


async def signed_in(request: Request) -> Actor | None:
    """The signed-in actor, or None (a user who must change a one-time password is sent to that page)."""
    try:
        return await current_actor(request)
    except AuthenticationError:
        return None


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _login_form(
    request: Request, *, next_url: str, error: str | None = None, username: str = "", status_code: int = 200
) -> Response:
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    html = render(
        "login.html", actor=None, csrf=token, error=error, username=username, next_url=next_url, page="login"
    )
    response = HTMLResponse(html, status_code=status_code)
    response.set_cookie(
        CSRF_COOKIE, token, httponly=False, samesite="strict", secure=_secure(request), path="/"
    )
    return response


@router.get("/login")
async def login_page(request: Request, next: str = "/") -> Response:
    if await signed_in(request) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, next_url=safe_next(next))


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    next_url = safe_next(str(form.get("next") or "/"))
    sent = str(form.get("csrf_token") or "")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not sent or not hmac.compare_digest(sent.encode(), cookie.encode()):
        return _login_form(
            request,
            next_url=next_url,
            username=username,
            status_code=403,
            error="The login form expired (its security token did not match). Please try again.",
        )
    if not username or not password:
        return _login_form(
            request,
            next_url=next_url,
            username=username,
            status_code=422,
            error="Enter your user name and password.",
        )
    context = app_context(request)
    try:
        result = await check_login(
            context.sessions,
            username=username,
            password=password,
            source=source_of(request),
            clock=context.clock,
            policy=auth_env(request).policy,
        )
    except AuthenticationError as exc:
        return _login_form(
            request, next_url=next_url, username=username, status_code=401, error=exc.user_message
        )
    except FictraError as exc:
        return _login_form(
            request, next_url=next_url, username=username, status_code=400, error=exc.user_message
        )
    if result.must_change_password:  # a one-time password: choose one's own first, then go on
        next_url = f"{PASSWORD_PAGE}?next={quote(next_url)}"
    response = RedirectResponse(next_url, status_code=303)
    max_age = max(int((result.expires_at - context.clock.now()).total_seconds()), 60)
    secure = _secure(request)
    response.set_cookie(
        SESSION_COOKIE,
        result.session_token,
        httponly=True,
        samesite="strict",
        secure=secure,
        max_age=max_age,
        path="/",
    )
    response.set_cookie(
        CSRF_COOKIE,
        result.csrf_token,
        httponly=False,
        samesite="strict",
        secure=secure,
        max_age=max_age,
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Ends the session (the CSRF check of ``current_actor`` guards this form too)."""
    response = RedirectResponse("/login", status_code=303)
    actor = None
    try:
        actor = await signed_in(request)
    except FictraError:  # a wrong CSRF token: keep the session, show the login page's notice
        return RedirectResponse(f"/login?next={quote('/')}", status_code=303)
    token = request.cookies.get(SESSION_COOKIE)
    if actor is not None and token:
        context = app_context(request)
        async with context.sessions.begin() as db:
            await revoke_session(db, token=token, clock=context.clock)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
