"""Limits of access control: lockout, session lifetime, token lifetime, recording throttles."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class AuthPolicy:
    max_failures: int = 5  # failed logins within failure_window ...
    failure_window: timedelta = timedelta(minutes=15)
    lock_duration: timedelta = timedelta(minutes=15)  # ... lock the account this long
    session_ttl: timedelta = timedelta(hours=12)  # absolute session lifetime
    session_idle: timedelta = timedelta(hours=1)  # a session unused this long ends
    token_max_ttl: timedelta = timedelta(days=366)
    touch_every: timedelta = timedelta(seconds=60)  # last-seen updates / token-use records at most this often


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
