"""CEL compilation behind one function, cached, with errors as readable one-line messages."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import cel

_TEMPLATE_FIELD = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")
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
    """The ``{dotted.path}`` fields of a summary template."""
    return _TEMPLATE_FIELD.findall(template)


def render_template(template: str, context: dict[str, Any]) -> str:
    """Replace each ``{a.b.c}`` with its value in ``context``; unknown paths render as ``<a.b.c?>``."""

    def lookup(match: re.Match[str]) -> str:
        value: Any = context
        for part in match.group(1).split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            else:
                return f"<{match.group(1)}?>"
        return str(value)

    return _TEMPLATE_FIELD.sub(lookup, template)
