"""What every list format parses into, and the refusal that names the file and line."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

from fictra.errors import UsageError

__all__ = ["EVM_ADDRESS", "ListEntry", "ListRefused", "evm_address"]

EVM_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_EXACT = re.compile(r"^0x[0-9a-fA-F]{40}$")


class ListRefused(UsageError):
    """A list file that cannot be imported; nothing was written and the previous version stays in force."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else path
        stop = "" if problem.endswith((".", "?")) else "."
        super().__init__(
            f"{where}: {problem}{stop} The list was not imported; the previous version stays in force."
        )
        self.path = path
        self.line = line
        self.problem = problem


def evm_address(value: str) -> str | None:
    """``value`` as a lower-case 0x address (any case accepted, surrounding space ignored), else None."""
    text = value.strip()
    return text.lower() if _EXACT.match(text) else None


@dataclass(frozen=True)
class ListEntry:
    """One listed party or wallet. ``key`` is stable across versions of the same list (the list's own id)."""

    key: str
    name: str
    kind: str = "entity"  # individual | entity | vessel | aircraft | wallet | address
    aliases: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()  # lower-case EVM addresses
    programs: tuple[str, ...] = ()
    line: int | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def content(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "aliases": sorted(self.aliases),
            "addresses": sorted(self.addresses),
            "programs": sorted(self.programs),
        }

    @property
    def digest(self) -> str:
        text = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:32]
