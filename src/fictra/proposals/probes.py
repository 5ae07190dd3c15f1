"""The state a proposal's calls may change, as named probes read before and after (on a fork, then on the
chain after execution).

For every known contract a proposal calls: each parameterless view getter with one plain output
(``PaymentToken.feeBps()``, ``feeCollector()``, ``paused()``…; ALL-CAPS constants left out); for role
calls, ``hasRole(role, account)`` of the role and account named; for a proxy, its ERC-1967
implementation slot. Values are JSON-safe (ints beyond 2**53 as decimal strings).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils.crypto import keccak

from fictra.chain import artifacts
from fictra.chain.decode import normalize
from fictra.chain.manifest import Manifest
from fictra.errors import RpcError

__all__ = ["IMPLEMENTATION_SLOT", "Probe", "Rpc", "jsonable", "probes_for", "read_probes"]

IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"
_PLAIN = re.compile(r"^(address|bool|u?int\d*|bytes\d+|string)$")
_CONSTANT = re.compile(r"^[A-Z0-9_]+$")
_SKIP = frozenset({"proxiableUUID", "eip712Domain", "clock", "CLOCK_MODE"})
_ROLE_FUNCTIONS = frozenset({"grantRole", "revokeRole", "renounceRole"})

# one JSON-RPC call: (method, params) -> result
Rpc = Callable[[str, list[Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Probe:
    label: str  # "PaymentToken.feeBps()"
    address: str
    data: str | None  # eth_call data; None for a storage slot
    out_type: str
    slot: str | None = None


def jsonable(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def _selector(signature: str) -> str:
    return "0x" + keccak(text=signature)[:4].hex()


def _getters(artifact: str) -> list[tuple[str, str]]:
    out = []
    for entry in artifacts.load(artifact).entries("function"):
        name, outputs = entry["name"], entry.get("outputs", [])
        if (
            entry.get("stateMutability") in ("view", "pure")
            and not entry.get("inputs")
            and len(outputs) == 1
            and _PLAIN.match(outputs[0]["type"])
            and not _CONSTANT.match(name)
            and name not in _SKIP
        ):
            out.append((name, outputs[0]["type"]))
    return sorted(out)


def probes_for(manifest: Manifest, calls: Sequence[dict[str, Any]]) -> list[Probe]:
    """The probes of the contracts ``calls`` (decoded, ``calls.Call.as_dict``) touch."""
    probes: dict[str, Probe] = {}
    for call in calls:
        name, artifact = call.get("contract"), call.get("artifact")
        if not name or not artifact:
            continue
        entry = manifest.contracts[name]
        address = entry.address.lower()
        for fn, out in _getters(artifact):
            label = f"{name}.{fn}()"
            probes[label] = Probe(label, address, _selector(f"{fn}()"), out)
        if entry.proxy:
            label = f"{name}.implementation"
            probes[label] = Probe(label, address, None, "address", slot=IMPLEMENTATION_SLOT)
        args = call.get("args") or {}
        if call.get("function") in _ROLE_FUNCTIONS and {"role", "account"} <= set(args):
            role, account = str(args["role"]), str(args["account"])
            data = (
                _selector("hasRole(bytes32,address)")
                + abi_encode(["bytes32", "address"], [bytes.fromhex(role[2:]), account]).hex()
            )
            label = f"{name}.hasRole({role[:10]}…, {account})"
            probes[label] = Probe(label, address, data, "bool")
    return list(probes.values())


async def read_probes(rpc: Rpc, probes: Sequence[Probe], *, block: int | str = "latest") -> dict[str, Any]:
    """{label: value} of each probe at ``block``; a probe that reverts reads as ``None``."""
    tag = hex(block) if isinstance(block, int) else block
    values: dict[str, Any] = {}
    for p in probes:
        try:
            if p.slot is not None:
                raw = str(await rpc("eth_getStorageAt", [p.address, p.slot, tag]))
                values[p.label] = "0x" + raw[-40:].lower()
                continue
            raw = str(await rpc("eth_call", [{"to": p.address, "data": p.data}, tag]))
            (value,) = abi_decode([p.out_type], bytes.fromhex(raw.removeprefix("0x")))
            values[p.label] = jsonable(normalize(value, p.out_type))
        except (RpcError, DecodingError, ValueError):
            values[p.label] = None
    return values
