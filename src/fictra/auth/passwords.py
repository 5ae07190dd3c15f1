"""Password hashing (argon2id), strength rules and one-time password generation.

Hashing is CPU-bound (tens of milliseconds by design): the async helpers run it in a worker thread so
the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fictra.errors import UsageError

MIN_LENGTH = 12
PRODUCTION_HASHER = PasswordHasher()  # argon2id, 64 MiB, 3 iterations, 4 lanes (argon2-cffi defaults)
_HASHER = PRODUCTION_HASHER


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


async def averify(password_hash: str | None, password: str) -> bool:
    """Verify in a thread; with no hash (unknown user) still spend the same time, then answer False."""
    if password_hash is None:
        await asyncio.to_thread(verify_password, _dummy_hash(), password)
        return False
    return await asyncio.to_thread(verify_password, password_hash, password)


async def ahash(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


def check_strength(password: str, *, username: str) -> None:
    """Reject empty, short or obvious passwords with a message that says what is needed."""
    if not password:
        raise UsageError("The password is empty. Give at least 12 characters.")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError("The password is not valid text (it holds an unpaired surrogate).") from None
    if len(password) < MIN_LENGTH:
        raise UsageError(f"The password has {len(password)} characters. Give at least {MIN_LENGTH}.")
    if password.strip().lower() == username.lower() or len(set(password)) < 4:
        raise UsageError("The password is too easy to guess (the user name, or too few distinct characters).")


def generate_password() -> str:
    """A random one-time password (about 128 bits)."""
    return secrets.token_urlsafe(16)
