"""Login throttling that an anonymous caller cannot turn into a lock-out of a user (OWASP, "Blocking
brute force attacks"): three counters, each a :class:`~fictra.auth.models.LoginThrottle` row.

- **pair** (user name, client IP): ``max_failures`` failures within ``failure_window`` lock the pair for
  ``lock_duration``; each further lock of the pair lasts twice the one before (up to ``lock_max``). The
  attacker's client is locked out of that user; the user's own client is not.
- **client** (IP, every user name): ``client_max_failures`` failures lock the client (password spraying),
  with the same backoff.
- **user** (every client): failures beyond ``user_slow_after`` never lock, they only slow each login of
  that user (0.25 s doubling per failure, at most ``user_delay_max``): a botnet makes logins slower, never
  impossible, and the right password from any unlocked client still succeeds.

A success clears the pair and the user counters. ``fictra users unlock NAME`` clears every counter of a
user (:func:`unlock`); the counters are what the admin sees (``fictra users list``, ``GET /api/v1/users``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.auth.models import LoginThrottle
from fictra.auth.policy import AuthPolicy

PAIR, CLIENT, USER = "pair", "client", "user"
UNKNOWN_CLIENT = "(unknown client)"


def _clean(text: str) -> str:
    """Storable in any database: lone surrogates and NULs escaped (PostgreSQL refuses both)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def keys(username: str, ip: str | None) -> dict[str, str]:
    username = _clean(username)
    client = _clean(ip or UNKNOWN_CLIENT)
    return {PAIR: f"{username[:200]}|{client}"[:300], CLIENT: client[:300], USER: username[:300]}


async def _rows(db: AsyncSession, wanted: dict[str, str]) -> dict[str, LoginThrottle]:
    found: dict[str, LoginThrottle] = {}
    for scope, key in wanted.items():
        query = select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
        row = (await db.execute(query)).scalar_one_or_none()
        if row is not None:
            found[scope] = row
    return found


async def blocked(db: AsyncSession, *, username: str, ip: str | None, now: datetime) -> str | None:
    """``"locked"`` (this user from this client) or ``"client_locked"`` (this client), else None."""
    rows = await _rows(db, {k: v for k, v in keys(username, ip).items() if k in (PAIR, CLIENT)})
    if (row := rows.get(CLIENT)) is not None and row.locked_until is not None and now < row.locked_until:
        return "client_locked"
    if (row := rows.get(PAIR)) is not None and row.locked_until is not None and now < row.locked_until:
        return "locked"
    return None


async def delay(db: AsyncSession, *, username: str, now: datetime, policy: AuthPolicy) -> float:
    """Seconds to wait before checking this user's password (0 below ``user_slow_after`` failures)."""
    rows = await _rows(db, {USER: keys(username, None)[USER]})
    row = rows.get(USER)
    if row is None or row.first_failed_at is None or now - row.first_failed_at > policy.failure_window:
        return 0.0
    excess = row.failures - policy.user_slow_after
    if excess <= 0:
        return 0.0
    return float(min(0.25 * 2 ** min(excess - 1, 16), policy.user_delay_max.total_seconds()))


def _lock_for(locks: int, policy: AuthPolicy) -> timedelta:
    lock: timedelta = policy.lock_duration * 2 ** min(locks, 16)
    return min(lock, policy.lock_max)


async def failed(
    db: AsyncSession, *, username: str, ip: str | None, now: datetime, policy: AuthPolicy
) -> bool:
    """Count a failure on the three counters; True when it locked the pair (this user from this client)."""
    wanted = keys(username, ip)
    rows = await _rows(db, wanted)
    limits = {PAIR: policy.max_failures, CLIENT: policy.client_max_failures, USER: None}
    pair_locked = False
    for scope, key in wanted.items():
        row = rows.get(scope)
        if row is None:
            name = None if scope == CLIENT else _clean(username)[:200]
            row = LoginThrottle(scope=scope, key=key, username=name)
            row.failures, row.locks = 0, 0
            db.add(row)
        if row.first_failed_at is None or now - row.first_failed_at > policy.failure_window:
            row.first_failed_at, row.failures = now, 0
        row.failures += 1
        row.last_failed_at = now
        limit = limits[scope]
        if limit is not None and row.failures >= limit:
            row.locked_until = now + _lock_for(row.locks, policy)
            row.locks += 1
            row.failures, row.first_failed_at = 0, None
            pair_locked = pair_locked or scope == PAIR
    await db.flush()
    return pair_locked


async def succeeded(db: AsyncSession, *, username: str, ip: str | None) -> None:
    """A right password: forget this user's pair and user counters (the client's stay: spraying)."""
    wanted = keys(username, ip)
    await db.execute(
        delete(LoginThrottle).where(
            ((LoginThrottle.scope == PAIR) & (LoginThrottle.key == wanted[PAIR]))
            | ((LoginThrottle.scope == USER) & (LoginThrottle.key == wanted[USER]))
        )
    )


async def locks_of(db: AsyncSession, *, username: str, now: datetime) -> list[LoginThrottle]:
    """This user's counters that lock (pairs) or slow (user) logins now."""
    query = select(LoginThrottle).where(LoginThrottle.username == username).order_by(LoginThrottle.id)
    return [
        row
        for row in (await db.execute(query)).scalars()
        if (row.locked_until is not None and now < row.locked_until) or row.scope == USER
    ]


async def locked_until(db: AsyncSession, *, username: str, now: datetime) -> datetime | None:
    """The latest lock of any (user, client) pair of this user still in force."""
    ends = [r.locked_until for r in await locks_of(db, username=username, now=now) if r.locked_until]
    return max(ends) if ends else None


async def unlock(db: AsyncSession, *, username: str, client: str | None = None) -> int:
    """Clear the user's counters (and ``client``'s own lock when given); the number of rows cleared."""
    query = delete(LoginThrottle).where(LoginThrottle.username == username)
    removed = (await db.execute(query)).rowcount or 0  # type: ignore[attr-defined]
    if client:
        query = delete(LoginThrottle).where(LoginThrottle.scope == CLIENT, LoginThrottle.key == client)
        removed += (await db.execute(query)).rowcount or 0  # type: ignore[attr-defined]
    return int(removed)
