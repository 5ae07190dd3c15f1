"""The kinds as data (:class:`~fictra.emergency.kinds.spec.Definition`): their parameters, permission,
proposers, approval rule and signer, read from the kind registry. The service (propose/approve) and the
config checker use these; how each kind acts is in :mod:`fictra.emergency.kinds`.

The registry is imported lazily, so that importing the service does not import chain code.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from fictra.emergency.kinds.spec import ApprovalRule, Definition
from fictra.errors import UsageError

__all__ = [
    "DEFINITIONS",
    "ApprovalRule",
    "Definition",
    "definition",
    "kinds",
    "validate_params",
]


class _Definitions(Mapping[str, Definition]):
    """A live view of the registry: kind name -> definition."""

    def _kinds(self) -> Mapping[str, Any]:
        from fictra.emergency.kinds.registry import KINDS

        return KINDS

    def __getitem__(self, kind: str) -> Definition:
        found: Definition = self._kinds()[kind].definition
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._kinds()))

    def __len__(self) -> int:
        return len(self._kinds())


DEFINITIONS: Mapping[str, Definition] = _Definitions()


def kinds() -> list[str]:
    return list(DEFINITIONS)


def definition(kind: str, overrides: Mapping[str, ApprovalRule] | None = None) -> Definition:
    """The definition of ``kind`` (with its approval rule overridden from config when given)."""
    found = DEFINITIONS.get(kind)
    if found is None:
        raise UsageError(f"Unknown action kind '{kind}'; expected one of: {', '.join(DEFINITIONS)}.")
    if overrides and kind in overrides:
        return replace(found, rule=overrides[kind])
    return found


def validate_params(defn: Definition, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` checked against the kind's model; the normalised dict (defaults filled in)."""
    try:
        model = defn.params.model_validate(params)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err["loc"]) or "params"
            msg = "unknown parameter" if err["type"] == "extra_forbidden" else err["msg"]
            problems.append(f"{where}: {str(msg).removeprefix('Value error, ')}")
        raise UsageError(
            f"Parameters of '{defn.kind}' are invalid: "
            + "; ".join(problems)
            + f". Schema: {sorted(defn.params.model_fields) or 'no parameters'}."
        ) from None
    return model.model_dump(mode="json", exclude_none=True)
