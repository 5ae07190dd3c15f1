"""Generate ``docs/configuration.md`` from the Pydantic models, so the reference never drifts.

The parts come from the config registry (:func:`fictra.platform.config_set.doc_parts`)."""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Sequence
from datetime import timedelta
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from fictra.config.fields import format_duration
from fictra.config.sections import DocPart

HEADER = """# Configuration reference

Generated from the Pydantic models by `fictra config docs` — do not edit by hand.

The config directory (`--config-dir`, `FICTRA_CONFIG_DIR`, default `config/`) holds `network.yaml`,
`alerting.yaml`, `monitors/*.yaml` (a `monitors:` list), `rules/*.yaml` (a `rules:` list),
`emergency.yaml` and `incidents.yaml`. Every
model rejects unknown keys; monitors are selected by `type`. Durations are seconds or `500ms`, `30s`,
`15m`, `1h`, `2d`. Secrets are references: `env:VAR`, `file:path` or a plain value. Check a directory
with `fictra config check [--manifest PATH]`; it lists every problem as `file:key.path: message`.

CEL rules see: `event` or `function` (name), `contract` (manifest name), `address`, `args` (decoded:
ints stay ints — above 2^64 they become doubles —, addresses lower-case hex, bytes 0x-hex), `tx`
(`hash`, `from`, `to`, `value`, `status`, `gas_used`), `block` (`number`, `hash`, `timestamp`),
`network`, `params` (the rule's `params`) and `known_contracts` (every manifest contract address).
"""


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(_type_name(a) for a in args)
    if origin in (list, tuple):
        return f"list[{_type_name(args[0])}]" if args else "list"
    if origin is dict:
        return f"map[{_type_name(args[0])}, {_type_name(args[1])}]"
    if annotation is type(None):
        return "null"
    if annotation is timedelta:
        return "duration"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "severity" if annotation.__name__ == "Severity" else annotation.__name__
    return getattr(annotation, "__name__", str(annotation))


def _default(info: FieldInfo) -> str:
    if info.default is PydanticUndefined and info.default_factory is None:
        return "**required**"
    value = info.get_default(call_default_factory=True)
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, timedelta):
        return f"`{format_duration(value)}`"
    if isinstance(value, Enum):
        return f"`{value.value}`"
    if value in ([], {}):
        return "empty"
    if isinstance(value, list) and all(isinstance(v, BaseModel) for v in value):
        return f"{len(value)} built-in rules (see the shipped config)"
    if isinstance(value, dict) and any(isinstance(v, timedelta) for v in value.values()):
        shown = ", ".join(
            f"{k}: {format_duration(v) if isinstance(v, timedelta) else v}" for k, v in value.items()
        )
        return f"`{shown}`"
    if isinstance(value, dict):
        return f"`{', '.join(f'{k}: {v}' for k, v in value.items())}`"
    return f"`{value}`"


def _table(model: type[BaseModel]) -> str:
    rows = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for name, info in model.model_fields.items():
        desc = re.sub(r"\s+", " ", info.description or "").replace("|", "\\|")
        rows.append(f"| `{name}` | {_type_name(info.annotation)} | {_default(info)} | {desc} |")
    return "\n".join(rows)


def render(sections: Sequence[DocPart], *, header: str = HEADER) -> str:
    parts = [header]
    for section in sections:
        parts.append(f"## {section.title}\n\n{section.intro}\n")
        for i, model in enumerate(section.models):
            if i:
                parts.append(f"### {model.__name__}\n")
            parts.append(_table(model) + "\n")
    return "\n".join(parts)
