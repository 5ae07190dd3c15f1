"""Limits of access control: lockout, session lifetime, token lifetime, recording throttles."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class AuthPolicy:
    # OWASP-style throttling (fictra.auth.throttle): failures counted from the first in failure_window
    max_failures: int = 5  # failed logins of one user from one client within failure_window ...
    failure_window: timedelta = timedelta(minutes=15)
    lock_duration: timedelta = timedelta(minutes=15)  # ... lock that (user, client) pair this long
    lock_max: timedelta = timedelta(hours=24)  # each further lock doubles, up to this
    client_max_failures: int = 30  # failures from one client (any user names) lock that client
    user_slow_after: int = 5  # failures of one user from every client beyond this only slow its logins:
    user_delay_max: timedelta = timedelta(seconds=8)  # 0.25 s doubling per failure, at most this
    session_ttl: timedelta = timedelta(hours=12)  # absolute session lifetime
    session_idle: timedelta = timedelta(hours=1)  # a session unused this long ends
    token_max_ttl: timedelta = timedelta(days=366)
    touch_every: timedelta = timedelta(seconds=60)  # last-seen updates / token-use records at most this often
    # failed token/session uses recorded per client IP and reason, at most this many per minute
    attempts_per_minute: int = 20
    attempts_retention: timedelta = timedelta(days=90)  # access attempts older than this are pruned


DEFAULT_POLICY = AuthPolicy()


@dataclass(frozen=True)
class Source:
    """Where a request came from (recorded with every access attempt)."""

    ip: str | None = None
    user_agent: str | None = None


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """sha256 hex of a secret; only this is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()
