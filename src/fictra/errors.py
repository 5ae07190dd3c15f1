"""One exception tree for FICTRA Ops.

Every error carries a ``user_message`` that names what was wrong (file, key, value) and what to do.
The CLI prints ``user_message`` and exits with ``exit_code`` (2 for usage/config errors); the API maps
the tree to HTTP statuses in one handler. Never include secrets (keys, passwords, credentialed URLs)
in a message: use :func:`redact_url`.

    FictraError
    ├── ConfigError            bad config file, key or value (exit 2)
    ├── UsageError             bad command-line input (exit 2)
    ├── DevnetError            the local devnet cannot be started/stopped/used (exit 2)
    │   └── ScenarioError      a scenario cannot be applied or undone
    ├── ChainError             talking to an EVM node failed (exit 1)
    │   ├── RpcError           an endpoint errored, timed out or answered garbage
    │   └── ContractError      a contract call reverted; carries the decoded custom error
    ├── StorageError           the database is unreachable or its schema is wrong (exit 1)
    ├── NotFoundError          a named object does not exist (HTTP 404, exit 2)
    ├── ConflictError          the object's state forbids the operation (HTTP 409, exit 2)
    ├── PermissionDeniedError  the actor lacks the permission (HTTP 403, exit 2)
    └── AuthenticationError    no valid credentials: bad login, expired session/token (HTTP 401, exit 2)
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit


class FictraError(Exception):
    """Base of every expected failure. ``user_message`` is safe to show to any user."""

    exit_code: int = 1

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class ConfigError(FictraError):
    exit_code = 2


class UsageError(FictraError):
    exit_code = 2


class DevnetError(FictraError):
    exit_code = 2


class ScenarioError(DevnetError):
    pass


class ChainError(FictraError):
    exit_code = 1


class RpcError(ChainError):
    pass


class ContractError(ChainError):
    """A reverted call. ``error_name``/``error_args`` hold the decoded custom error when known."""

    def __init__(
        self, user_message: str, *, error_name: str | None = None, error_args: tuple[object, ...] = ()
    ) -> None:
        super().__init__(user_message)
        self.error_name = error_name
        self.error_args = error_args


class StorageError(FictraError):
    exit_code = 1


class NotFoundError(FictraError):
    exit_code = 2


class ConflictError(FictraError):
    exit_code = 2


class PermissionDeniedError(FictraError):
    exit_code = 2


class AuthenticationError(FictraError):
    """Who is asking is unknown: bad login, locked or disabled account, missing/expired session or token."""

    exit_code = 2
    http_status = 401
    error_code = "unauthorized"


_USERINFO = re.compile(r"//[^/@\s]+@")
# provider keys in the path: Alchemy/Infura-style /v2/KEY, /v3/KEY, and any long token-like segment
_KEYED_VERSION = re.compile(r"^v\d+$")
_TOKEN_LIKE = re.compile(r"^[A-Za-z0-9_-]{20,}$")


def _redact_path(path: str) -> str:
    segments = path.split("/")
    for i, segment in enumerate(segments):
        after_version = i > 0 and _KEYED_VERSION.match(segments[i - 1]) is not None and segment != ""
        if after_version or _TOKEN_LIKE.match(segment):
            segments[i] = "***"
    return "/".join(segments)


def redact_url(url: str) -> str:
    """Hide credentials, query strings and path-embedded keys (``/v2/KEY``, ``/v3/KEY``, long token-like
    segments) in a URL before it goes into a message, a log or a metric label."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _USERINFO.sub("//***@", url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = "***" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, _redact_path(parts.path), query, ""))
