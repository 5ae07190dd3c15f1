"""Field types shared by every config model: durations, addresses and secret references.

Secret references are ``env:VAR`` (an environment variable), ``file:path`` (a file, relative to the
config directory) or a plain value. They are resolved late, by :func:`resolve_secret`, into a
:class:`~pydantic.SecretStr`, and never printed: :func:`redact_secret_ref` shows references as written
and hides plain values.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, SecretStr

from fictra.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: object) -> timedelta:
    """``90`` (seconds), ``"15m"``, ``"1h"``, ``"24h"``, ``"2d"``, ``"500ms"`` -> timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not a duration; use seconds or e.g. '15m', '1h'")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"duration {value} is negative")
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2) or "s"])
    raise ValueError(f"'{value}' is not a duration; use seconds or a number with ms/s/m/h/d, e.g. '15m'")


def format_duration(value: timedelta) -> str:
    seconds = value.total_seconds()
    for unit in ("d", "h", "m"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[
    timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)
]

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def check_address(value: str) -> str:
    if not _ADDRESS.match(value):
        raise ValueError(f"'{value}' is not a 0x-prefixed 20-byte hex address")
    return value.lower()


Address = Annotated[str, BeforeValidator(lambda v: check_address(str(v)))]


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(?!//)")


def check_secret_ref(value: str) -> str:
    if value.startswith("env:"):
        name = value[4:]
        if not _ENV_NAME.match(name):
            raise ValueError(
                f"bad secret reference 'env:{name}': 'env:' must be followed by an environment variable "
                "name (letters, digits, _)"
            )
        return value
    if value.startswith("file:"):
        if not value[5:].strip():
            raise ValueError("bad secret reference 'file:': 'file:' must be followed by a path")
        return value
    match = _SCHEME.match(value)
    if match and match.group(1).lower() not in {"http", "https", "ws", "wss", "ipc"}:
        raise ValueError(
            f"bad secret reference scheme '{match.group(1)}:'; use env:VAR, file:path or a plain value"
        )
    if not value:
        raise ValueError("empty secret reference")
    return value


SecretRef = Annotated[str, AfterValidator(check_secret_ref)]


def redact_secret_ref(ref: str) -> str:
    """What may be shown of a reference: env:/file: as written; plain URLs reduced to scheme://host."""
    if ref.startswith(("env:", "file:")):
        return ref
    try:
        parts = urlsplit(ref)
    except ValueError:
        return "***"
    if parts.scheme and parts.hostname:
        port = f":{parts.port}" if parts.port else ""
        rest = "/***" if (parts.path.strip("/") or parts.query or parts.username) else ""
        return f"{parts.scheme}://{parts.hostname}{port}{rest}"
    return "***"


def resolve_secret(ref: str, *, base_dir: Path, where: str) -> SecretStr:
    """The value behind ``ref``; ``where`` (file:key) names the reference in errors, never the value."""
    if ref.startswith("env:"):
        name = ref[4:]
        value = os.environ.get(name)
        if value is None:
            raise ConfigError(f"{where}: secret reference 'env:{name}' names an unset environment variable.")
        return SecretStr(value)
    if ref.startswith("file:"):
        path = Path(ref[5:]).expanduser()
        path = path if path.is_absolute() else base_dir / path
        try:
            return SecretStr(path.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ConfigError(
                f"{where}: secret reference '{ref}' cannot be read ({exc.strerror}); check the path."
            ) from None
    return SecretStr(ref)
