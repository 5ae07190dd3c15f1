"""Password hashing (argon2id), the password policy and one-time password generation.

Policy (:func:`check_strength`, :func:`check_new_password`): at least 12 characters, not the user name,
not too few distinct characters, not a common password (``common_passwords.txt`` shipped beside this
module, also with digits/symbols appended), and on a change not the current password.

Hashing is CPU-bound (tens of milliseconds by design): the async helpers run it in a worker thread so
the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from functools import lru_cache
from pathlib import Path

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


def _verify_dummy(password: str) -> bool:
    verify_password(_dummy_hash(), password)
    return False


async def averify(password_hash: str | None, password: str) -> bool:
    """Verify in a thread; with no hash (unknown user, locked client) still spend the same time (the dummy
    hash is made in the thread too, the first time), then answer False."""
    if password_hash is None:
        return await asyncio.to_thread(_verify_dummy, password)
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
    if is_common(password):
        raise UsageError(
            "The password is a common one (or a common word with digits or symbols added): choose another, "
            "e.g. four unrelated words."
        )


_COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
_TAIL = re.compile(r"[\d\W_]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = _COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    lowered = password.strip().lower()
    common = common_passwords()
    return lowered in common or _TAIL.sub("", lowered) in common or lowered.replace(" ", "") in common


async def check_new_password(password: str, *, username: str, current_hash: str | None) -> None:
    """The policy for a change: :func:`check_strength`, and not the current password."""
    check_strength(password, username=username)
    if current_hash is not None and await averify(current_hash, password):
        raise UsageError("The new password is the current one: choose a different password.")


def generate_password() -> str:
    """A random one-time password (about 128 bits)."""
    return secrets.token_urlsafe(16)
