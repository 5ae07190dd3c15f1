"""The console's change request form: what it posts, turned into :class:`~fictra.changes.schemas.ChangeInput`.

Steps are one per line; an on-chain step is ``text | action_kind | {"json": "params"}`` (e.g.
``Set the fee | set_pt_fee | {"fee_bps": 60}``). Verification checks are one per line, ``name: CEL`` or
``name: manual``. Planned start and end are UTC (``datetime-local`` fields). A bad value is a
:class:`~fictra.errors.UsageError` naming the field and line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from fictra.changes.schemas import ChangeInput
from fictra.errors import UsageError

__all__ = ["ChangeForm"]


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _when(name: str, value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{name} '{value}' is not a date and time (YYYY-MM-DDTHH:MM, UTC).") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _steps(name: str, text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, line in enumerate((ln.strip() for ln in text.splitlines()), start=1):
        if not line:
            continue
        parts = [p.strip() for p in line.split("|", 2)]
        if len(parts) == 1:
            out.append({"text": parts[0]})
            continue
        if len(parts) != 3 or not parts[1]:
            raise UsageError(f"{name} line {i}: write 'text' or 'text | action_kind | {{json params}}'.")
        try:
            params = json.loads(parts[2])
        except json.JSONDecodeError as exc:
            raise UsageError(f"{name} line {i}: the parameters are not JSON ({exc.msg}).") from None
        if not isinstance(params, dict):
            raise UsageError(f"{name} line {i}: the parameters must be a JSON object.")
        out.append({"text": parts[0], "action_kind": parts[1], "action_params": params})
    return out


def _checks(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, line in enumerate((ln.strip() for ln in text.splitlines()), start=1):
        if not line:
            continue
        name, sep, rest = line.partition(":")
        if not sep or not name.strip() or not rest.strip():
            raise UsageError(f"verification line {i}: write 'name: CEL expression' or 'name: manual'.")
        if rest.strip().lower() == "manual":
            out.append({"name": name.strip(), "manual": True})
        else:
            out.append({"name": name.strip(), "expr": rest.strip()})
    return out


@dataclass(frozen=True)
class ChangeForm:
    """What the New change form posted (kept to fill the form again after a refusal)."""

    title: str = ""
    description: str = ""
    type: str = "normal"
    category: str = ""
    components: tuple[str, ...] = ()
    implementer: str = ""
    planned_start: str = ""
    planned_end: str = ""
    steps: str = ""
    verification: str = ""
    rollback_plan: str = ""
    rollback_steps: str = ""
    notify: str = ""
    template: str = ""

    @classmethod
    def of(cls, form: FormData) -> ChangeForm:
        values: dict[str, Any] = {n: _field(form, n) for n in cls.__dataclass_fields__ if n != "components"}
        values["components"] = tuple(str(v) for v in form.getlist("components") if str(v).strip())
        return cls(**values)

    def to_input(self) -> ChangeInput:
        data: dict[str, Any] = {
            "title": self.title,
            "description": self.description,
            "type": self.type or "normal",
            "category": self.category,
            "components": list(self.components),
            "implementer": self.implementer or None,
            "planned_start": _when("planned start", self.planned_start),
            "planned_end": _when("planned end", self.planned_end),
            "steps": _steps("steps", self.steps),
            "verification": _checks(self.verification),
            "rollback_plan": self.rollback_plan or None,
            "rollback_steps": _steps("rollback steps", self.rollback_steps),
            "notify": [n.strip() for n in self.notify.split(",") if n.strip()],
            "template": self.template or None if self.type == "standard" else None,
        }
        try:
            return ChangeInput.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "change"
            raise UsageError(f"Change request field '{where}': {first['msg']}.") from None
