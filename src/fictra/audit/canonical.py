"""The canonical encoding an entry's hash is computed over.

Sorted-key compact JSON (UTF-8, no NaN), times as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC. Values given to
:func:`jsonable` are normalised first (datetimes, decimals, enums, sets, tuples, dataclasses, Pydantic
models), so what is stored in the JSON columns is exactly what was hashed and re-hashing a stored row
gives the same digest on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_time(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def jsonable(value: Any) -> Any:
    """A plain-JSON copy of ``value``: dict keys become strings, non-finite floats become strings."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, datetime):
        return format_time(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((jsonable(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return jsonable(dump(mode="json"))
    return str(value)


def dumps(value: Any) -> str:
    """Sorted-key, compact JSON; the one encoding hashes and signatures are computed over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(
    *,
    index: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    before: Any,
    after: Any,
    reason: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) over the canonical encoding of an entry's fields and the previous entry's hash."""
    body = {
        "index": index,
        "at": format_time(at),
        "actor": actor,
        "action": action,
        "target": target,
        "before": before,
        "after": after,
        "reason": reason,
        "prev_hash": prev_hash,
    }
    return hashlib.sha256(dumps(body).encode("utf-8")).hexdigest()
