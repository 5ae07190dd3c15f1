"""Every config problem is one line ``file:key.path: message``; :class:`ConfigProblems` reports them all."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from fictra.errors import ConfigError


class ConfigProblems(ConfigError):
    """Every problem found in a config directory; ``problems`` lists them as ``file:key.path: message``."""

    def __init__(self, config_dir: Path, problems: list[str]) -> None:
        self.problems = problems
        plural = "s" if len(problems) != 1 else ""
        listing = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"Config in '{config_dir}' has {len(problems)} problem{plural}:\n{listing}")


def message_of(err: Any, *, union: tuple[str, Sequence[str]] | None = None) -> str:
    """One pydantic error as a readable message; ``union`` = (what the tag selects, its known values)."""
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        what, names = union or ("type", _expected_tags(err))
        expected = ", ".join(names)
        if kind == "union_tag_not_found":
            return f"missing key 'type'; expected one of: {expected}"
        return f"unknown {what} '{err.get('ctx', {}).get('tag', '?')}'; expected one of: {expected}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    if isinstance(value, str | int | float | bool) and kind != "value_error":
        return f"invalid value {value!r}: {msg}"
    return msg


def _expected_tags(err: Any) -> list[str]:
    raw = str(err.get("ctx", {}).get("expected_tags", ""))
    return sorted(t.strip().strip("'") for t in raw.split(",") if t.strip())


def problems_of(
    rel: str,
    prefix: list[str],
    exc: ValidationError,
    *,
    tag: str | None = None,
    union: tuple[str, Sequence[str]] | None = None,
) -> list[str]:
    """``exc`` as ``rel:prefix.key.path: message`` lines (``tag``: a union member's name in the path,
    left out)."""
    out = []
    for err in exc.errors():
        loc = [str(x) for x in err["loc"]]
        if tag is not None and loc and loc[0] == tag:
            loc = loc[1:]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            loc.append("type")
        path = ".".join(prefix + loc) or "(top)"
        out.append(f"{rel}:{path}: {message_of(err, union=union)}")
    return out
