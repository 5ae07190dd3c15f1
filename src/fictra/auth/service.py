"""Users, logins and access attempts.

:func:`login` runs in its own transaction (``sessions``) so a failed attempt and the lockout counter are
committed even though the caller gets an :class:`~fictra.errors.AuthenticationError`. The other
functions work in the caller's session and transaction (so a change and its audit entry commit together).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.audit.service import record as audit
from fictra.auth import throttle
from fictra.auth.actor import Actor
from fictra.auth.models import AccessAttempt, ApiToken, AuthSession, User
from fictra.auth.passwords import ahash, averify, check_new_password, check_strength
from fictra.auth.permissions import RoleMap
from fictra.auth.policy import DEFAULT_POLICY, AuthPolicy, Source
from fictra.auth.sessions import create_session
from fictra.clock import Clock
from fictra.errors import AuthenticationError, ConflictError, NotFoundError, UsageError

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
LOGIN_FAILED = (
    "Wrong user name or password, or the account is disabled, or this client is locked out "
    "(5 failures within 15 minutes lock this user from this client for 15 minutes)."
)


@dataclass(frozen=True)
class LoginResult:
    user_id: int
    username: str
    roles: tuple[str, ...]
    session_token: str  # goes into the fictra_session cookie, never stored
    csrf_token: str  # goes into the fictra_csrf cookie and every unsafe request's X-CSRF-Token
    expires_at: datetime
    must_change_password: bool


def printable(text: str, limit: int = 200) -> str:
    """Storable and showable anywhere: lone surrogates and NULs escaped (PostgreSQL refuses both), cut."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")[:limit]


def user_view(user: User) -> dict[str, Any]:
    return {"username": user.username, "roles": list(user.roles), "disabled": user.disabled}


async def record_attempt(
    session: AsyncSession,
    *,
    username: str,
    method: str,
    success: bool,
    reason: str,
    source: Source,
    clock: Clock,
    details: dict[str, Any] | None = None,
    policy: AuthPolicy = DEFAULT_POLICY,
) -> None:
    """Record an attempt. Failures are rate-limited per client IP and reason (``attempts_per_minute``), so
    junk credentials cannot grow the table without bound; successes are always recorded."""
    if not success:
        since = clock.now() - timedelta(minutes=1)
        recent = (
            select(func.count())
            .select_from(AccessAttempt)
            .where(
                AccessAttempt.at >= since,
                AccessAttempt.success.is_(False),
                AccessAttempt.reason == reason,
                AccessAttempt.source_ip.is_(None)
                if source.ip is None
                else AccessAttempt.source_ip == source.ip,
            )
        )
        if int((await session.execute(recent)).scalar_one()) >= policy.attempts_per_minute:
            return
    session.add(
        AccessAttempt(
            at=clock.now(),
            username=printable(username),
            method=method,
            success=success,
            reason=reason,
            source_ip=source.ip,
            user_agent=printable(source.user_agent, 400) if source.user_agent else None,
            details=details or {},
        )
    )


async def get_user(session: AsyncSession, *, username: str) -> User:
    user = None
    if USERNAME.fullmatch(
        username
    ):  # no valid user name, no such user (and nothing odd sent to the database)
        user = (await session.execute(select(User).where(User.username == username))).scalar_one_or_none()
    if user is None:
        raise NotFoundError(f"No user '{printable(username, 80)}'. List them with `fictra users list`.")
    return user


async def list_users(session: AsyncSession) -> list[User]:
    return list((await session.execute(select(User).order_by(User.username))).scalars())


async def count_users(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(User))).scalar_one())


def check_roles(roles: list[str], role_map: RoleMap) -> list[str]:
    if not roles:
        raise UsageError(f"Give at least one role (--role); one of: {', '.join(role_map.names())}.")
    unknown = [r for r in roles if not role_map.known(r)]
    if unknown:
        raise UsageError(
            f"Unknown role '{unknown[0]}'. Roles (config/roles.yaml): {', '.join(role_map.names())}."
        )
    return sorted({role_map.canonical(r) for r in roles})


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    roles: list[str],
    password: str,
    role_map: RoleMap,
    actor: Actor,
    clock: Clock,
    must_change_password: bool = False,
) -> User:
    """Add a user; bad name/role/password -> UsageError, taken name -> ConflictError."""
    if not USERNAME.fullmatch(username):
        raise UsageError(
            f"User name '{printable(username, 80)}' is not valid: use 2-64 lower-case letters, digits, "
            "'.', '_' or '-', starting with a letter or digit."
        )
    canonical = check_roles(roles, role_map)
    check_strength(password, username=username)
    exists = await session.execute(select(User.id).where(User.username == username))
    if exists.scalar_one_or_none() is not None:
        raise ConflictError(f"User '{username}' already exists.")
    user = User(
        username=username,
        password_hash=await ahash(password),
        roles=canonical,
        disabled=False,
        created_at=clock.now(),
        failed_logins=0,
        must_change_password=must_change_password,
    )
    session.add(user)
    await session.flush()
    await audit(
        session,
        actor=actor,
        action="user.create",
        target=f"user:{username}",
        after=user_view(user),
        clock=clock,
    )
    return user


async def disable_user(
    session: AsyncSession, *, username: str, actor: Actor, clock: Clock, reason: str | None = None
) -> User:
    """Disable a user: no more logins; their sessions end and their tokens stop working."""
    user = await get_user(session, username=username)
    if user.disabled:
        raise ConflictError(f"User '{username}' is already disabled.")
    before = user_view(user)
    user.disabled = True
    now = clock.now()
    for row in (await session.execute(select(AuthSession).where(AuthSession.user_id == user.id))).scalars():
        row.revoked_at = row.revoked_at or now
    for tok in (await session.execute(select(ApiToken).where(ApiToken.user_id == user.id))).scalars():
        tok.revoked_at = tok.revoked_at or now
    await audit(
        session,
        actor=actor,
        action="user.disable",
        target=f"user:{username}",
        before=before,
        after=user_view(user),
        reason=reason,
        clock=clock,
    )
    return user


async def set_password(
    session: AsyncSession, *, user: User, password: str, actor: Actor, clock: Clock
) -> None:
    """Set a new password under the policy (:func:`~fictra.auth.passwords.check_new_password`); clears
    the forced change. Use :func:`fictra.auth.account.change_password` for a user changing their own."""
    await check_new_password(password, username=user.username, current_hash=user.password_hash)
    user.password_hash = await ahash(password)
    user.must_change_password = False
    await audit(session, actor=actor, action="user.password", target=f"user:{user.username}", clock=clock)


async def login(
    sessions: async_sessionmaker[AsyncSession],
    *,
    username: str,
    password: str,
    source: Source,
    clock: Clock,
    policy: AuthPolicy = DEFAULT_POLICY,
) -> LoginResult:
    """Check a password login; record the attempt; throttle failures (:mod:`fictra.auth.throttle`).

    Raises :class:`AuthenticationError` (one message for every failure, so it reveals nothing about which
    users exist); the recorded attempt says why (unknown_user, bad_password, disabled, locked,
    client_locked). Every path does the work of one password check, so timing tells nothing either."""
    async with sessions() as db:  # read-only: the wait below holds no transaction
        blocked = await throttle.blocked(db, username=username, ip=source.ip, now=clock.now())
        wait = 0.0 if blocked else await throttle.delay(db, username=username, now=clock.now(), policy=policy)
    if wait:
        await clock.sleep(wait)
    async with sessions.begin() as db:
        now = clock.now()
        user = None
        if USERNAME.fullmatch(username):
            user = (await db.execute(select(User).where(User.username == username))).scalar_one_or_none()
        if blocked is not None or user is None:
            await averify(None, password)  # the same work as a wrong password
            reason = blocked or "unknown_user"
        elif not await averify(user.password_hash, password):
            reason = "bad_password"
        elif user.disabled:
            reason = "disabled"
        else:
            reason = "ok"
        success = reason == "ok"
        details: dict[str, Any] = {}
        if reason in ("bad_password", "unknown_user"):
            details["now_locked"] = await throttle.failed(
                db, username=username, ip=source.ip, now=now, policy=policy
            )
        if blocked is not None:
            details["blocked"] = blocked
        await record_attempt(
            db,
            username=username,
            method="password",
            success=success,
            reason=reason,
            source=source,
            clock=clock,
            details=details,
            policy=policy,
        )
        if not success or user is None:
            result = None
        else:
            await throttle.succeeded(db, username=username, ip=source.ip)
            user.failed_logins, user.first_failed_at, user.locked_until = 0, None, None
            user.last_login_at = now
            token, csrf, expires = await create_session(
                db, user=user, source=source, clock=clock, policy=policy
            )
            result = LoginResult(
                user.id, user.username, tuple(user.roles), token, csrf, expires, user.must_change_password
            )
    if result is None:
        raise AuthenticationError(LOGIN_FAILED)
    return result
