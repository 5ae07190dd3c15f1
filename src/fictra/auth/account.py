"""What a user does to their own account, and what an admin does to unblock one: change the password
(:func:`change_password`, used by ``POST /api/v1/auth/password`` and the console's password page),
unlock (:func:`unlock_user`, ``fictra users unlock``), and the access-attempt retention
(:func:`prune_attempts`).

All work in the caller's session and transaction, audited there."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import record as audit
from fictra.auth import throttle
from fictra.auth.actor import Actor
from fictra.auth.models import AccessAttempt, ApiToken, AuthSession, LoginThrottle, User
from fictra.auth.passwords import averify
from fictra.auth.policy import DEFAULT_POLICY, AuthPolicy, digest
from fictra.auth.service import get_user, set_password
from fictra.clock import Clock
from fictra.errors import AuthenticationError


@dataclass(frozen=True)
class PasswordChanged:
    sessions_revoked: int
    tokens_revoked: int


async def change_password(
    db: AsyncSession,
    *,
    user: User,
    current_password: str,
    new_password: str,
    actor: Actor,
    clock: Clock,
    keep_session: str | None = None,
    revoke_tokens: bool = False,
) -> PasswordChanged:
    """A user changes their own password: the current one must be right (AuthenticationError), the new one
    must pass the policy and differ from it (UsageError). Ends every other session of the user (the one
    whose cookie token is ``keep_session`` stays), and with ``revoke_tokens`` revokes their API tokens.
    Clears the forced change of a one-time password."""
    if not await averify(user.password_hash, current_password):
        raise AuthenticationError("The current password is wrong.")
    await set_password(db, user=user, password=new_password, actor=actor, clock=clock)
    now = clock.now()
    kept = digest(keep_session) if keep_session else None
    sessions = 0
    query = select(AuthSession).where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
    for row in (await db.execute(query)).scalars():
        if row.token_hash != kept:
            row.revoked_at, sessions = now, sessions + 1
    tokens = 0
    if revoke_tokens:
        query_tokens = select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        for tok in (await db.execute(query_tokens)).scalars():
            tok.revoked_at, tokens = now, tokens + 1
    await audit(
        db,
        actor=actor,
        action="user.password.revoke",
        target=f"user:{user.username}",
        after={"sessions_revoked": sessions, "tokens_revoked": tokens},
        clock=clock,
    )
    return PasswordChanged(sessions, tokens)


async def unlock_user(
    db: AsyncSession,
    *,
    username: str,
    actor: Actor,
    clock: Clock,
    client: str | None = None,
    reason: str | None = None,
) -> int:
    """Clear the login throttles of a user (every client's lock on them, and the slow-down; ``client``:
    that client's own lock too). Audited; returns the number of counters cleared."""
    user = await get_user(db, username=username)
    cleared = await throttle.unlock(db, username=username, client=client)
    user.failed_logins, user.first_failed_at, user.locked_until = 0, None, None
    await audit(
        db,
        actor=actor,
        action="user.unlock",
        target=f"user:{username}",
        after={"cleared": cleared, "client": client},
        reason=reason,
        clock=clock,
    )
    return cleared


async def prune_attempts(db: AsyncSession, *, clock: Clock, policy: AuthPolicy = DEFAULT_POLICY) -> int:
    """Delete access attempts older than ``attempts_retention`` and throttles long idle and unlocked;
    the number of attempts deleted."""
    cutoff = clock.now() - policy.attempts_retention
    result = await db.execute(delete(AccessAttempt).where(AccessAttempt.at < cutoff))
    idle = clock.now() - policy.lock_max - policy.failure_window
    await db.execute(
        delete(LoginThrottle).where(
            LoginThrottle.last_failed_at < idle,
            (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < clock.now()),
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
