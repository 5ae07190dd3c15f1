"""The strict YAML reader every config file goes through.

:data:`READS` counts the files opened (by absolute path), so a test can prove that start-up reads
each config file exactly once and that serving a request reads none.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import yaml

READS: Counter[str] = Counter()
"""Absolute path -> how many times :func:`read_yaml` opened it in this process."""


class StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects a key repeated in one mapping (PyYAML silently keeps the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, rel: str, problems: list[str]) -> Any:
    """The parsed document (None when empty or broken); a broken file adds ``rel:line:col: ...``."""
    READS[str(path.resolve())] += 1
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(f"{rel}: cannot read file ({exc.strerror})")
        return None
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "?"
        context = ""
        if exc.context and exc.context_mark is not None and exc.problem:
            cm = exc.context_mark
            context = f" ({exc.context} at line {cm.line + 1}, column {cm.column + 1})"
        problems.append(f"{rel}:{where}: YAML syntax error: {exc.problem or exc.context}{context}")
    except yaml.YAMLError as exc:
        problems.append(f"{rel}: YAML error: {exc}")
    return None
