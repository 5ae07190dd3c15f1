"""API tokens: random, shown once, stored as sha256, scoped to a subset of the owner's permissions, and
expiring. A token's effective permissions are its scopes still held by its owner's current roles."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import record as audit
from fictra.auth.actor import Actor
from fictra.auth.models import ApiToken, User
from fictra.auth.permissions import ALL, PERMISSIONS, RoleMap
from fictra.auth.policy import AuthPolicy, digest, new_secret
from fictra.clock import Clock
from fictra.errors import NotFoundError, UsageError

PREFIX = "fictra_"
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``2w``, ``45s`` -> timedelta; anything else -> UsageError."""
    match = _DURATION.match(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise UsageError(
            f"Expiry '{text}' is not a duration: use a positive number and a unit, like 30d or 12h."
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once, never stored
    id: int
    prefix: str
    scopes: list[str]
    expires_at: datetime


def token_view(row: ApiToken) -> dict[str, Any]:
    return {
        "id": row.id,
        "prefix": row.prefix,
        "scopes": list(row.scopes),
        "expires_at": row.expires_at.isoformat(),
        "revoked": row.revoked_at is not None,
    }


async def create_token(
    db: AsyncSession,
    *,
    user: User,
    scopes: list[str],
    expires_in: timedelta,
    role_map: RoleMap,
    actor: Actor,
    clock: Clock,
    policy: AuthPolicy,
) -> NewToken:
    """Issue a token for ``user`` limited to ``scopes`` (each a permission the user holds)."""
    if user.disabled:
        raise UsageError(f"User '{user.username}' is disabled; a token for them would not work.")
    if not scopes:
        raise UsageError("Give at least one scope (--scope PERMISSION), e.g. --scope alerts.read.")
    held = role_map.permissions_of(list(user.roles))
    wanted: set[str] = set()
    for scope in scopes:
        if scope == ALL:
            wanted |= held
        elif scope not in PERMISSIONS:
            raise UsageError(
                f"Unknown scope '{scope}'. Scopes are permission names: {', '.join(PERMISSIONS)}."
            )
        elif scope not in held:
            raise UsageError(
                f"User '{user.username}' (roles {', '.join(user.roles)}) does not hold '{scope}', "
                "so a token cannot be scoped to it."
            )
        else:
            wanted.add(scope)
    if expires_in <= timedelta(0) or expires_in > policy.token_max_ttl:
        raise UsageError(f"Token expiry must be between 1 second and {policy.token_max_ttl.days} days.")
    raw = PREFIX + new_secret()
    now = clock.now()
    row = ApiToken(
        token_hash=digest(raw),
        prefix=raw[: len(PREFIX) + 6],
        user_id=user.id,
        scopes=sorted(wanted),
        created_at=now,
        expires_at=now + expires_in,
    )
    db.add(row)
    await db.flush()
    await audit(
        db,
        actor=actor,
        action="token.create",
        target=f"user:{user.username}",
        after=token_view(row),
        clock=clock,
    )
    return NewToken(raw, row.id, row.prefix, list(row.scopes), row.expires_at)


async def resolve_token(
    db: AsyncSession, *, token: str, clock: Clock
) -> tuple[User | None, ApiToken | None, str]:
    """(user, token row, reason): reason is "ok" or why the token is refused (unknown_token, expired_token,
    revoked_token, disabled)."""
    row = (
        await db.execute(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    ).scalar_one_or_none()
    if row is None or not hmac.compare_digest(row.token_hash, digest(token)):
        return None, None, "unknown_token"
    user = await db.get(User, row.user_id)
    if user is None or user.disabled:
        return user, row, "disabled"
    if row.revoked_at is not None:
        return user, row, "revoked_token"
    if clock.now() >= row.expires_at:
        return user, row, "expired_token"
    return user, row, "ok"


async def list_tokens(db: AsyncSession, *, user: User) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    return list((await db.execute(query)).scalars())


async def revoke_token(db: AsyncSession, *, token_id: int, actor: Actor, clock: Clock) -> ApiToken:
    row = await db.get(ApiToken, token_id)
    if row is None:
        raise NotFoundError(f"No API token with id {token_id}.")
    if row.revoked_at is None:
        before = token_view(row)
        row.revoked_at = clock.now()
        await audit(
            db,
            actor=actor,
            action="token.revoke",
            target=f"token:{token_id}",
            before=before,
            after=token_view(row),
            clock=clock,
        )
    return row
