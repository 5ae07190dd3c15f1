"""A proposal's calls decoded against the manifest (contract name, function, named arguments) and the
risk they carry.

Risk is read from what is called, the highest call wins:

- **high**: upgrades (``upgradeTo``, ``upgradeToAndCall``), role and ownership changes (``grantRole``,
  ``revokeRole``, ``renounceRole``, ``transferOwnership``), governance and timelock settings (the
  Governor's ``updateTimelock``, ``updateQuorumNumerator``, ``setVotingDelay``, ``setVotingPeriod``,
  ``setProposalThreshold``; the Timelock's ``updateDelay``, ``schedule``, ``cancel``), a call to an
  address the manifest does not know, calldata that does not decode, or ETH sent with a call;
- **medium**: any other state-changing call on a known contract (a fee, a collector, pause/unpause,
  block lists, minting);
- **low**: a proposal without state-changing calls (e.g. a signalling proposal with an empty call).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from fictra.chain import artifacts
from fictra.chain.decode import DecodeError, FunctionDecoder, function_decoders
from fictra.chain.manifest import Manifest

__all__ = ["HIGH_RISK_FUNCTIONS", "LEVELS", "Call", "decode_calls", "risk_of"]

LEVELS = ("low", "medium", "high")
HIGH_RISK_FUNCTIONS = frozenset(
    {
        "upgradeTo",
        "upgradeToAndCall",
        "grantRole",
        "revokeRole",
        "renounceRole",
        "transferOwnership",
        "updateTimelock",
        "updateQuorumNumerator",
        "setVotingDelay",
        "setVotingPeriod",
        "setProposalThreshold",
        "updateDelay",
        "schedule",
        "scheduleBatch",
        "cancel",
    }
)


@dataclass(frozen=True)
class Call:
    """One call of a proposal, decoded. ``contract`` is the manifest name (None when unknown);
    ``function``/``args`` are None when the calldata did not decode (``error`` says why)."""

    index: int
    target: str
    value: int
    calldata: str
    contract: str | None
    artifact: str | None
    function: str | None
    signature: str | None
    args: dict[str, Any] | None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "target": self.target,
            "value": str(self.value),
            "calldata": self.calldata,
            "contract": self.contract,
            "artifact": self.artifact,
            "function": self.function,
            "signature": self.signature,
            "args": self.args,
            "error": self.error,
        }


@cache
def _selectors(artifact: str) -> dict[str, tuple[FunctionDecoder, str, str]]:
    """selector -> (decoder, state mutability, signature) of every function of ``artifact``."""
    entries = artifacts.load(artifact).entries("function")
    return {
        dec.selector: (
            dec,
            str(entry.get("stateMutability", "nonpayable")),
            f"{dec.name}({','.join(dec.types)})",
        )
        for entry, dec in zip(entries, function_decoders(entries), strict=True)
    }


def _name_of(manifest: Manifest, address: str) -> tuple[str | None, str | None]:
    for name, entry in manifest.contracts.items():
        if entry.address.lower() == address.lower():
            return name, entry.artifact
    return None, None


def _call(manifest: Manifest, index: int, target: str, value: int, data: str) -> Call:
    target = target.lower()
    data = data.lower() if data.startswith("0x") else "0x" + data.lower()
    contract, artifact = _name_of(manifest, target)
    known: dict[str, Any] = {"index": index, "target": target, "value": int(value), "calldata": data}
    known |= {"contract": contract, "artifact": artifact}
    empty: dict[str, Any] = {"function": None, "signature": None, "args": None}
    if contract is None or artifact is None:
        return Call(**known, **empty, error="the manifest has no contract at this address")
    if len(data) < 10:
        return Call(**known, **empty, error="no function selector (plain transfer or fallback)")
    found = _selectors(artifact).get(data[:10])
    if found is None:
        return Call(**known, **empty, error=f"selector {data[:10]} is not in the {artifact} ABI")
    dec, _mutability, signature = found
    try:
        args = dec.decode(data)
    except DecodeError as exc:
        return Call(**known, function=dec.name, signature=signature, args=None, error=str(exc))
    return Call(**known, function=dec.name, signature=signature, args=args)


def decode_calls(
    manifest: Manifest, targets: list[str], values: list[int], calldatas: list[str]
) -> list[Call]:
    """Each (target, value, calldata) decoded with the ABI of the manifest's contract at ``target``."""
    return [
        _call(manifest, i, target, value, data)
        for i, (target, value, data) in enumerate(zip(targets, values, calldatas, strict=True))
    ]


def _mutates(call: Call) -> bool:
    if call.artifact is None or call.function is None:
        return True
    mutability = _selectors(call.artifact)[call.calldata[:10]][1]
    return mutability not in ("view", "pure")


def risk_of(calls: list[Call]) -> tuple[str, list[str]]:
    """The proposal's risk level and one reason per call that sets it (see the module docstring)."""
    level, reasons = 0, list[str]()
    for call in calls:
        where = f"call {call.index} ({call.contract or call.target}.{call.function or '?'})"
        if call.contract is None:
            level, reasons = max(level, 2), [*reasons, f"{where}: unknown target {call.target}"]
        elif call.error is not None:
            level, reasons = max(level, 2), [*reasons, f"{where}: calldata not decoded: {call.error}"]
        elif call.function in HIGH_RISK_FUNCTIONS:
            level, reasons = max(level, 2), [*reasons, f"{where}: upgrade, role or governance setting"]
        elif _mutates(call):
            level, reasons = max(level, 1), [*reasons, f"{where}: changes contract state"]
        if call.value > 0:
            level, reasons = max(level, 2), [*reasons, f"{where}: sends {call.value} wei"]
    if not reasons:
        reasons = ["no state-changing call"]
    return LEVELS[level], reasons
