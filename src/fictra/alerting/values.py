"""Values the alert store hands back: state transitions (:class:`AlertChange`), JSON-safe evidence."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fictra.alerting.findings import Severity
from fictra.alerting.models import Confirmation, EventKind


@dataclass(frozen=True, slots=True)
class AlertChange:
    """A state transition of one alert (what notification and escalation stages react to)."""

    alert_id: int
    network: str
    fingerprint: str
    kind: EventKind
    severity: Severity
    confirmation: Confirmation
    occurrence_id: int | None = None  # the new occurrence a ``repeated`` change tells about


@dataclass(slots=True)
class ApplyResult:
    changes: list[AlertChange] = field(default_factory=list)
    occurrences: int = 0

    def of(self, kind: EventKind) -> list[AlertChange]:
        return [c for c in self.changes if c.kind == kind]


def jsonable(value: object) -> Any:
    """Evidence made JSON-safe: bytes as 0x-hex, tuples/sets as lists, NaN/inf and unknown objects as str
    (PostgreSQL's JSON rejects NaN and Infinity)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
