"""FastAPI dependencies: who is asking (:func:`current_actor`), may they (:func:`require`), and the CSRF
token for templates (:func:`csrf_token`).

Credentials: ``Authorization: Bearer <token>`` (API tokens; no CSRF needed) or the ``fictra_session``
cookie. With a cookie, every unsafe method (POST, PUT, PATCH, DELETE) must carry the session's CSRF token
in the ``X-CSRF-Token`` header or the ``csrf_token`` form field, equal to the ``fictra_csrf`` cookie
(double submit, and checked against the hash stored with the session).

The app provides ``app.state.context`` with ``sessions`` (async_sessionmaker), ``clock`` and either
``roles`` (a :class:`RoleMap`) or ``settings.config_dir`` (roles.yaml is read from there); optionally
``auth_policy`` (:class:`AuthPolicy`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.auth.actor import SYSTEM, Actor, cli_actor
from fictra.auth.permissions import PERMISSIONS, RoleMap
from fictra.auth.policy import DEFAULT_POLICY, AuthPolicy, Source
from fictra.auth.service import record_attempt
from fictra.auth.sessions import csrf_matches, resolve_session
from fictra.auth.tokens import resolve_token
from fictra.clock import Clock
from fictra.errors import AuthenticationError, PermissionDeniedError

__all__ = [
    "SYSTEM",
    "Actor",
    "CsrfRejected",
    "PasswordChangeRequired",
    "authorize",
    "cli_actor",
    "csrf_token",
    "current_actor",
    "require",
]

SESSION_COOKIE = "fictra_session"
CSRF_COOKIE = "fictra_csrf"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# What a user who must still change a one-time password may do (API, console, tokens alike): change it,
# see who they are, sign out. The console's password page adds its path here.
MUST_CHANGE_ALLOWED = frozenset(
    {
        "/api/v1/auth/password",
        "/api/v1/auth/me",
        "/api/v1/auth/logout",
        "/logout",
        "/password",
        "/account/password",
    }
)


class CsrfRejected(PermissionDeniedError):
    """An unsafe request with a session cookie but without its CSRF token (403; the console's "Form
    expired" page)."""


class PasswordChangeRequired(PermissionDeniedError):
    """The actor still has a one-time password (403; the console sends them to its password page)."""


@dataclass(frozen=True)
class AuthEnv:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    roles: RoleMap
    policy: AuthPolicy


def auth_env(request: Request) -> AuthEnv:
    context: Any = request.app.state.context
    roles = getattr(context, "roles", None)  # filled from the config set read at start-up
    if not isinstance(roles, RoleMap):
        roles = context.config.roles  # never roles.yaml per request
    policy = getattr(context, "auth_policy", None)
    return AuthEnv(
        context.sessions, context.clock, roles, policy if isinstance(policy, AuthPolicy) else DEFAULT_POLICY
    )


def source_of(request: Request) -> Source:
    return Source(request.client.host if request.client else None, request.headers.get("user-agent"))


async def _submitted_csrf(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


async def _from_token(request: Request, env: AuthEnv, raw: str) -> Actor:
    async with env.sessions.begin() as db:
        user, row, reason = await resolve_token(db, token=raw, clock=env.clock)
        now = env.clock.now()
        first_use = row is not None and (
            row.last_used_at is None or now - row.last_used_at >= env.policy.touch_every
        )
        if reason != "ok" or first_use:  # failures always; successes at most once per touch_every
            await record_attempt(
                db,
                username=user.username if user is not None else "(unknown token)",
                method="token",
                success=reason == "ok",
                reason=reason,
                source=source_of(request),
                clock=env.clock,
                details={"token_id": row.id} if row is not None else {},
            )
        if reason != "ok" or user is None or row is None:
            actor = None
        else:
            if first_use:
                row.last_used_at = now
            held = env.roles.permissions_of(list(user.roles))
            actor = Actor(
                user.id,
                user.username,
                tuple(user.roles),
                frozenset(row.scopes) & held,
                "token",
                user.must_change_password,
            )
    if actor is None:
        raise AuthenticationError("The API token is unknown, expired or revoked, or its user is disabled.")
    return actor


async def _from_session(request: Request, env: AuthEnv, raw: str) -> Actor:
    async with env.sessions.begin() as db:
        found = await resolve_session(db, token=raw, clock=env.clock, policy=env.policy)
        if found is None:
            raise AuthenticationError("Your session has ended (signed out, expired or idle). Sign in again.")
        user, row = found
        if request.method in UNSAFE:
            submitted = await _submitted_csrf(request)
            cookie = request.cookies.get(CSRF_COOKIE)
            if not submitted or submitted != cookie or not csrf_matches(row, submitted):
                raise CsrfRejected(
                    f"Missing or wrong CSRF token: send the {CSRF_COOKIE} cookie's value in the "
                    f"{CSRF_HEADER} header (or the csrf_token form field). Reload the page if it persists."
                )
        perms = env.roles.permissions_of(list(user.roles))
        return Actor(user.id, user.username, tuple(user.roles), perms, "session", user.must_change_password)


async def current_actor(request: Request) -> Actor:
    """The authenticated actor (cached on ``request.state``); 401 AuthenticationError when none."""
    cached = getattr(request.state, "actor", None)
    if isinstance(cached, Actor):
        return cached
    env = auth_env(request)
    auth = request.headers.get("authorization", "")
    scheme, _, raw = auth.partition(" ")
    if auth and scheme.lower() == "bearer" and raw.strip():
        actor = await _from_token(request, env, raw.strip())
    elif auth:
        raise AuthenticationError("Unsupported Authorization header: use 'Authorization: Bearer <token>'.")
    elif cookie := request.cookies.get(SESSION_COOKIE):
        actor = await _from_session(request, env, cookie)
    else:
        raise AuthenticationError(
            "Sign in first (POST /api/v1/auth/login) or send 'Authorization: Bearer <token>'."
        )
    if actor.must_change_password and request.url.path not in MUST_CHANGE_ALLOWED:
        raise PasswordChangeRequired(
            f"'{actor.username}' must change the one-time password first (POST /api/v1/auth/password with "
            "current_password and new_password, or the console's password page); until then only that, "
            "/api/v1/auth/me and signing out are allowed."
        )
    request.state.actor = actor
    return actor


def authorize(actor: Actor, permission: str) -> Actor:
    """The one permission decision (API routes, console pages, and handlers whose permission depends on the
    request, like an alert's action): ``actor`` when they hold ``permission``, else PermissionDeniedError."""
    if not actor.can(permission):
        raise PermissionDeniedError(
            f"'{actor.username}' (roles: {', '.join(actor.roles) or 'none'}; via {actor.via}) lacks the "
            f"permission '{permission}'."
        )
    return actor


def require(permission: str) -> Callable[[Request], Awaitable[Actor]]:
    """A dependency: the current actor if they hold ``permission``, else 403 PermissionDeniedError."""
    if permission not in PERMISSIONS:
        raise ValueError(f"require(): unknown permission {permission!r}; add it to PERMISSIONS first")

    async def dependency(request: Request) -> Actor:
        return authorize(await current_actor(request), permission)

    dependency.__name__ = f"require_{permission.replace('.', '_')}"
    return dependency


def csrf_token(request: Request) -> str:
    """The CSRF token to embed in forms (``csrf_token`` field) and htmx headers; "" when not signed in."""
    fresh = getattr(request.state, "csrf_token", None)
    if isinstance(fresh, str):
        return fresh
    return request.cookies.get(CSRF_COOKIE, "")
