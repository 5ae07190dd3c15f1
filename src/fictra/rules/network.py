"""``config/network.yaml``: the chain, its RPC endpoints and where the deployment manifest is.

Endpoint URLs are *secret references*: ``env:VAR`` (an environment variable), ``file:path`` (a file,
relative to the config directory) or a plain value. They are resolved late, by :func:`resolve_secret`,
into a :class:`~pydantic.SecretStr`, and never printed: :func:`redact_secret_ref` shows references as
written and hides plain values.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator

from fictra.errors import ConfigError
from fictra.rules.fields import Duration

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


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="Endpoint name used in alerts.")
    url: SecretRef = Field(description="JSON-RPC URL: env:VAR, file:path or plain (http/https/ws/wss).")
    timeout: Duration = Field(default=timedelta(seconds=10), description="Per-call timeout.")
    priority: int = Field(default=0, ge=0, description="Lower is preferred by the failover pool.")


class NetworkConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="Network name (alert label).")
    chain_id: int = Field(gt=0, description="Expected chain id; a node answering another is an alert.")
    endpoints: list[Endpoint] = Field(min_length=1, description="RPC endpoints, several for failover.")
    manifest: str | None = Field(
        default=None, description="Deployment manifest path (relative to the config dir), if fixed."
    )

    @field_validator("endpoints")
    @classmethod
    def _unique(cls, value: list[Endpoint]) -> list[Endpoint]:
        seen: set[str] = set()
        for ep in value:
            if ep.name in seen:
                raise ValueError(f"endpoint name '{ep.name}' is used twice")
            seen.add(ep.name)
        return value
