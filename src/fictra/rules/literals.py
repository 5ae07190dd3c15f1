"""Fold a rule's static values into its CEL expression as literals (``params.x`` -> ``[...]``).

CEL contexts are expensive to rebuild and cheap to reuse, so per-rule constants are not context
variables: ``params`` and ``known_contracts`` are replaced, outside string literals, by CEL literals.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

_STRINGS = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_NAMES = re.compile(r"(?<![\w.])(params|known_contracts)\b")


def literal(value: Any) -> str:
    """A CEL literal for a JSON-like value (ints, floats, strings, bools, None, lists, maps)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if -(2**63) <= value < 2**63 else repr(float(value))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return json.dumps(str(value))


def _lower_addresses(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
        return value.lower()
    if isinstance(value, Mapping):
        return {k: _lower_addresses(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lower_addresses(v) for v in value]
    return value


def inline_params(expression: str, params: Mapping[str, Any], *, known_contracts: Sequence[str]) -> str:
    values = {
        "params": literal(_lower_addresses(dict(params))),
        "known_contracts": literal(list(known_contracts)),
    }
    pieces = _STRINGS.split(expression)
    for i in range(0, len(pieces), 2):  # even pieces are outside string literals
        pieces[i] = _NAMES.sub(lambda m: values[m.group(1)], pieces[i])
    return "".join(pieces)
