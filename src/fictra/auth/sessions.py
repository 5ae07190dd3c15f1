"""Server-side login sessions. The cookie holds a random id; the table holds its sha256, the sha256 of
the session's CSRF token, and the deadlines (absolute ``expires_at``, idle ``session_idle``)."""

from __future__ import annotations

import hmac
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.auth.models import AuthSession, User
from fictra.auth.policy import AuthPolicy, Source, digest, new_secret
from fictra.clock import Clock


async def create_session(
    db: AsyncSession, *, user: User, source: Source, clock: Clock, policy: AuthPolicy
) -> tuple[str, str, datetime]:
    """A new session for ``user``: (session token, CSRF token, expiry). Only their hashes are stored.
    The user's ended sessions (expired, idle or revoked) are deleted on the way."""
    token, csrf = new_secret(), new_secret()
    now = clock.now()
    await db.execute(
        delete(AuthSession).where(
            AuthSession.user_id == user.id,
            or_(
                AuthSession.expires_at <= now,
                AuthSession.last_seen_at <= now - policy.session_idle,
                AuthSession.revoked_at.is_not(None),
            ),
        )
    )
    expires = now + policy.session_ttl
    db.add(
        AuthSession(
            token_hash=digest(token),
            csrf_hash=digest(csrf),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=expires,
            source_ip=source.ip,
            user_agent=source.user_agent[:400] if source.user_agent else None,
        )
    )
    await db.flush()
    return token, csrf, expires


async def resolve_session(
    db: AsyncSession, *, token: str, clock: Clock, policy: AuthPolicy
) -> tuple[User, AuthSession] | None:
    """The live session and its (enabled) user, or None (unknown, revoked, expired, idle, disabled)."""
    row = (
        await db.execute(select(AuthSession).where(AuthSession.token_hash == digest(token)))
    ).scalar_one_or_none()
    now = clock.now()
    if row is None or row.revoked_at is not None or now >= row.expires_at:
        return None
    if now - row.last_seen_at >= policy.session_idle:
        return None
    user = await db.get(User, row.user_id)
    if user is None or user.disabled:
        return None
    if now - row.last_seen_at >= policy.touch_every:
        row.last_seen_at = now
    return user, row


def csrf_matches(row: AuthSession, csrf: str | None) -> bool:
    """Constant-time check of a submitted CSRF token against the session's stored hash."""
    return bool(csrf) and hmac.compare_digest(row.csrf_hash, digest(csrf or ""))


async def revoke_session(db: AsyncSession, *, token: str, clock: Clock) -> bool:
    row = (
        await db.execute(select(AuthSession).where(AuthSession.token_hash == digest(token)))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = clock.now()
    return True
