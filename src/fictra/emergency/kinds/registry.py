"""The kinds the platform knows: one line per kind. Adding a kind is one module and one line here
(docs/emergency.md, "How to add an action kind"); :func:`register` adds one at run time (tests,
extensions)."""

from __future__ import annotations

from fictra.emergency.kinds.base import Kind
from fictra.emergency.kinds.component import Isolate, Restart, Restore
from fictra.emergency.kinds.controller import EmergencyShutdown, HaltTrading, PauseAll
from fictra.emergency.kinds.fee import SetPtFee
from fictra.emergency.kinds.governor import Upgrade
from fictra.emergency.kinds.policy import PolicyDisable, PolicyEnable
from fictra.emergency.kinds.reserve import ReserveRebalance
from fictra.emergency.kinds.timelock import ResumeTrading, UnpauseAll
from fictra.emergency.kinds.tokens import FtIssue
from fictra.errors import UsageError

__all__ = ["KINDS", "get", "register", "unregister"]

KINDS: dict[str, Kind] = {
    k.definition.kind: k
    for k in (
        PauseAll(),
        HaltTrading(),
        EmergencyShutdown(),
        UnpauseAll(),
        ResumeTrading(),
        Isolate(),
        Restore(),
        Restart(),
        Upgrade(),
        PolicyEnable(),
        PolicyDisable(),
        SetPtFee(),
        FtIssue(),
        ReserveRebalance(),
    )
}


def get(kind: str) -> Kind:
    found = KINDS.get(kind)
    if found is None:
        raise UsageError(f"Unknown action kind '{kind}'; expected one of: {', '.join(KINDS)}.")
    return found


def register(kind: Kind) -> None:
    """Add ``kind`` (its ``definition.kind`` must be new)."""
    name = kind.definition.kind
    if name in KINDS:
        raise UsageError(f"Action kind '{name}' is registered already.")
    KINDS[name] = kind


def unregister(name: str) -> None:
    KINDS.pop(name, None)
