"""Field types shared by the config-as-code models: durations and Ethereum-ish strings."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

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
