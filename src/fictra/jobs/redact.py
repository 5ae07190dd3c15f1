"""Error text for run records and logs, with secrets taken out."""

from __future__ import annotations

import re

from fictra.errors import FictraError, redact_url

_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")
_SECRET = re.compile(
    r"(?i)\b(password|passwd|passphrase|secret|token|api[_-]?key|private[_-]?key|authorization)"
    r"(\s*[=:]\s*)((?:Bearer|Basic)\s+\S+|'[^']*'|\"[^\"]*\"|\S+)"
)
LIMIT = 2000


def describe_error(exc: BaseException) -> str:
    """A one-line description of ``exc`` safe to store and log.

    A :class:`FictraError` gives its ``user_message`` (safe by contract); anything else gives its type
    and message with URLs redacted (credentials, query strings) and ``password=…``-style values hidden.
    """
    if isinstance(exc, FictraError):
        text = exc.user_message
    else:
        message = str(exc).strip()
        text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    text = _SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = " ".join(text.split())
    return text if len(text) <= LIMIT else text[: LIMIT - 1] + "…"
