"""CEL compilation behind one function, cached, with errors as readable one-line messages."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

import cel

_TEMPLATE_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)(?:\|([a-z]+)(?::([0-9]+))?)?\}")
# ``{args.value|units:18}``: a base-unit amount in whole tokens ("20,437.34"); ``{args.to|short}``:
# an address or hash cut to 0x1234…abcd. Filters make summaries readable; evidence keeps raw values.
TEMPLATE_FILTERS = ("units", "short")


def _units(value: Any, decimals: int) -> str:
    try:
        amount = Decimal(int(value)).scaleb(-decimals)  # exact: no float rounding of 10**24-size amounts
    except (TypeError, ValueError):
        return str(value)
    return f"{amount:,.2f}" if abs(amount) >= 1 else f"{amount.normalize():f}"


def _short(value: Any) -> str:
    text = str(value)
    return f"{text[:6]}…{text[-4:]}" if text.startswith("0x") and len(text) > 14 else text


TEMPLATE_ROOTS = frozenset(
    {"event", "function", "contract", "address", "args", "tx", "block", "network", "rule"}
)


class CelCompileError(ValueError):
    """The expression does not compile; ``str()`` is the CEL error without the caret diagram."""


@lru_cache(maxsize=4096)
def compile_expression(expression: str) -> Any:
    """A compiled CEL ``Program`` (cached: each distinct expression is compiled once per process)."""
    try:
        return cel.compile(expression)
    except (ValueError, RuntimeError, TypeError) as exc:
        first = str(exc).strip().splitlines()
        message = " ".join(line for line in first if not line.startswith("|")) if first else repr(exc)
        if "ERROR: <input>:" in message:
            message = message.split("ERROR: <input>:", 1)[1].strip()
        raise CelCompileError(message) from None


def template_fields(template: str) -> list[str]:
    """The ``{dotted.path}`` fields of a summary template (without their filters)."""
    return [path for path, _filter, _arg in _TEMPLATE_FIELD.findall(template)]


def template_filters(template: str) -> list[str]:
    """The filter names used in a summary template (``units``, ``short``...)."""
    return [name for _path, name, _arg in _TEMPLATE_FIELD.findall(template) if name]


def render_template(template: str, context: dict[str, Any]) -> str:
    """Replace each ``{a.b.c}`` with its value in ``context``; unknown paths render as ``<a.b.c?>``."""

    def lookup(match: re.Match[str]) -> str:
        value: Any = context
        for part in match.group(1).split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            else:
                return f"<{match.group(1)}?>"
        if match.group(2) == "units":
            return _units(value, int(match.group(3) or 18))
        if match.group(2) == "short":
            return _short(value)
        return str(value)

    return _TEMPLATE_FIELD.sub(lookup, template)
