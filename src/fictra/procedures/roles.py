"""On-chain AccessControl role holders, read from the chain itself, and their diff against expected holders.

:func:`role_holders` replays every ``RoleGranted`` / ``RoleRevoked`` log of the manifest's AccessControl
contracts (those whose ABI has ``hasRole``) from their deployment to the head (``eth_getLogs`` in chunks):
OpenZeppelin AccessControl emits one of them for every change of a holder, so the replay is the complete
set of holders, including accounts nobody told the platform about (the contracts are not all enumerable).

:func:`expected_holders` resolves the access-control check's ``expected_roles`` parameter, where a holder
is a contract name of the manifest, a manifest role name (all its addresses) or a literal address, and a
contract key may be a glob (``Feed:*``); :func:`role_diff` compares the two.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from eth_utils.crypto import keccak

from fictra.chain import artifacts
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.errors import UsageError
from fictra.monitors.common import ZERO_ROLE, topic

__all__ = ["RoleHolders", "access_controlled", "expected_holders", "role_diff", "role_holders"]

RoleHolders = dict[str, dict[str, list[str]]]  # contract -> role name -> sorted lowercase addresses
GRANTED = topic("RoleGranted(bytes32,address,address)")
REVOKED = topic("RoleRevoked(bytes32,address,address)")
CHUNK = 5_000


def access_controlled(manifest: Manifest) -> dict[str, dict[str, str]]:
    """Contract name -> {role id (0x hex) -> role name} for every contract whose ABI has ``hasRole``."""
    out: dict[str, dict[str, str]] = {}
    for name, entry in manifest.contracts.items():
        try:
            fns = {str(e.get("name")) for e in artifacts.load(entry.artifact).entries("function")}
        except (OSError, ValueError, KeyError):
            continue
        if "hasRole" not in fns:
            continue
        names = {ZERO_ROLE: "DEFAULT_ADMIN_ROLE"}
        for fn in fns:
            if fn.endswith("_ROLE") and fn != "DEFAULT_ADMIN_ROLE":
                names["0x" + keccak(text=fn).hex()] = fn
        out[name] = names
    return out


async def role_holders(*, pool: RpcPool, manifest: Manifest, head: int | None = None) -> RoleHolders:
    """Every role holder of every AccessControl contract of ``manifest`` at ``head`` (default: latest)."""
    contracts = access_controlled(manifest)
    if not contracts:
        return {}
    by_address = {manifest.contracts[n].address.lower(): n for n in contracts}
    if head is None:
        head = int(await pool.call("eth_blockNumber", []), 16)
    first = min(manifest.contracts[n].deployed_block for n in contracts)
    logs: list[dict[str, Any]] = []
    start = first
    while start <= head:
        end = min(head, start + CHUNK - 1)
        flt = {
            "fromBlock": hex(start),
            "toBlock": hex(end),
            "address": [manifest.contracts[n].address for n in sorted(contracts)],
            "topics": [[GRANTED, REVOKED]],
        }
        logs.extend(await pool.call("eth_getLogs", [flt]))
        start = end + 1
    logs.sort(key=lambda lg: (int(lg["blockNumber"], 16), int(lg["logIndex"], 16)))
    held: dict[str, dict[str, set[str]]] = {n: {} for n in contracts}
    for lg in logs:
        name = by_address.get(str(lg["address"]).lower())
        topics = [str(t).lower() for t in lg.get("topics", [])]
        if name is None or len(topics) != 4 or lg.get("removed"):
            continue
        role = contracts[name].get(topics[1], topics[1])
        account = "0x" + topics[2][-40:]
        members = held[name].setdefault(role, set())
        if topics[0] == GRANTED:
            members.add(account)
        else:
            members.discard(account)
    return {
        name: {role: sorted(members) for role, members in sorted(roles.items()) if members}
        for name, roles in sorted(held.items())
    }


def _resolve(holder: str, manifest: Manifest, *, where: str) -> list[str]:
    if holder.startswith("0x") and len(holder) == 42:
        return [holder.lower()]
    if holder in manifest.contracts:
        return [manifest.contracts[holder].address.lower()]
    if holder in manifest.roles:
        return [a.lower() for a in manifest.roles[holder]]
    raise UsageError(
        f"{where}: '{holder}' is neither an address, a contract of the manifest nor a manifest role "
        f"({', '.join(sorted(manifest.roles))})."
    )


def expected_holders(spec: dict[str, Any], *, manifest: Manifest) -> RoleHolders:
    """``{contract or glob: {role: [holder, ...]}}`` resolved to addresses for every AccessControl
    contract of the manifest (a contract no key matches expects no holder at all). Raises UsageError."""
    out: RoleHolders = {}
    for contract in sorted(access_controlled(manifest)):
        roles: dict[str, set[str]] = {}
        for pattern, entries in spec.items():
            if not fnmatch.fnmatchcase(contract, str(pattern)):
                continue
            if not isinstance(entries, dict):
                raise UsageError(f"expected_roles.{pattern}: a mapping of role -> holders is needed.")
            for role, holders in entries.items():
                where = f"expected_roles.{pattern}.{role}"
                for holder in holders if isinstance(holders, list) else [holders]:
                    roles.setdefault(str(role), set()).update(_resolve(str(holder), manifest, where=where))
        out[contract] = {role: sorted(addrs) for role, addrs in sorted(roles.items())}
    return out


def role_diff(*, observed: RoleHolders, expected: RoleHolders, manifest: Manifest) -> list[dict[str, str]]:
    """Holders on chain but not expected (``unexpected``) and expected but not on chain (``missing``),
    each with the holder's manifest name when it has one."""
    names: dict[str, str] = {e.address.lower(): n for n, e in manifest.contracts.items()}
    for role, addrs in manifest.roles.items():
        for i, a in enumerate(addrs):
            names.setdefault(a.lower(), role if len(addrs) == 1 else f"{role}[{i}]")
    diffs: list[dict[str, str]] = []
    for contract in sorted(set(observed) | set(expected)):
        seen, want = observed.get(contract, {}), expected.get(contract, {})
        for role in sorted(set(seen) | set(want)):
            got, exp = set(seen.get(role, [])), set(want.get(role, []))
            for kind, accounts in (("unexpected", got - exp), ("missing", exp - got)):
                for account in sorted(accounts):
                    diffs.append(
                        {
                            "change": kind,
                            "contract": contract,
                            "role": role,
                            "account": account,
                            "known_as": names.get(account, "unknown"),
                        }
                    )
    return diffs
