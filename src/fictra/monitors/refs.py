"""Cross-reference checks over every loaded monitor and rule: unique names, contracts that exist in the
manifest, events/functions that exist in the contract's ABI, endpoints that exist in the network."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fictra.chain.manifest import Manifest
from fictra.errors import ConfigError
from fictra.monitors.config import NodeHealthMonitor, OracleMonitor
from fictra.rules.config import EventRuleConfig
from fictra.rules.network import NetworkConfig

if TYPE_CHECKING:
    from fictra.rules.loader import Sourced


def _abi_names(manifest: Manifest, contract: str, notes: list[str]) -> dict[str, dict[str, set[str]]] | None:
    """{"event": {name: input names}, "function": {...}} of the contract's artifact, or None."""
    try:
        from fictra.chain import artifacts
    except ImportError:
        note = "event/function names not checked: fictra.chain.artifacts is not available"
        if note not in notes:
            notes.append(note)
        return None
    entry = manifest.contracts[contract]
    try:
        abi: Sequence[dict[str, Any]] = artifacts.load(entry.artifact).abi
    except ConfigError:
        notes.append(f"event/function names of '{contract}' not checked: no artifact '{entry.artifact}'")
        return None
    out: dict[str, dict[str, set[str]]] = {"event": {}, "function": {}}
    for e in abi:
        kind = str(e.get("type"))
        if kind in out:
            inputs = out[kind].setdefault(str(e.get("name")), set())
            inputs.update(str(i.get("name") or f"arg{n}") for n, i in enumerate(e.get("inputs", [])))
    return out


def check_references(
    items: Sequence[Sourced], *, network: NetworkConfig | None, manifest: Manifest | None, notes: list[str]
) -> list[str]:
    problems: list[str] = []
    seen: dict[str, str] = {}
    for s in items:
        name = s.item.name
        if name in seen:
            problems.append(
                f"{s.file}:{s.path}.name: duplicate name '{name}' (first defined in {seen[name]})"
            )
        else:
            seen[name] = f"{s.file}:{s.path}"
    endpoints = {ep.name for ep in network.endpoints} if network else None
    for s in items:
        item = s.item
        if isinstance(item, NodeHealthMonitor) and endpoints is not None:
            for i, ep in enumerate(item.endpoints):
                if ep not in endpoints:
                    known = ", ".join(sorted(endpoints))
                    problems.append(
                        f"{s.file}:{s.path}.endpoints.{i}: unknown endpoint '{ep}'; known: {known}"
                    )
        if isinstance(item, OracleMonitor):
            for feed in item.thresholds.bounds:
                if feed not in item.contracts:
                    problems.append(
                        f"{s.file}:{s.path}.thresholds.bounds.{feed}: feed '{feed}' is not in this monitor's "
                        "contracts"
                    )
    if manifest is None:
        notes.append("contract names not checked against a deployment manifest (none given)")
        return problems
    known_contracts = ", ".join(sorted(manifest.contracts))
    abis: dict[str, dict[str, dict[str, set[str]]] | None] = {}
    for s in items:
        item = s.item
        if isinstance(item, EventRuleConfig):
            refs = [(f"{s.path}.contract", item.contract)]
        else:
            refs = [(f"{s.path}.contracts.{i}", c) for i, c in enumerate(item.contracts)]
        for path, contract in refs:
            if contract not in manifest.contracts:
                problems.append(f"{s.file}:{path}: unknown contract '{contract}'; known: {known_contracts}")
        if not isinstance(item, EventRuleConfig) or item.contract not in manifest.contracts:
            continue
        if item.contract not in abis:
            abis[item.contract] = _abi_names(manifest, item.contract, notes)
        names = abis[item.contract]
        if names is None:
            continue
        if item.target not in names[item.kind]:
            available = ", ".join(sorted(names[item.kind])) or "none"
            problems.append(
                f"{s.file}:{s.path}.{item.kind}: contract '{item.contract}' has no {item.kind} "
                f"'{item.target}'; it has: {available}"
            )
            continue
        arg_names = names[item.kind][item.target]
        for i, arg in enumerate(item.label_args):
            if arg not in arg_names:
                problems.append(
                    f"{s.file}:{s.path}.label_args.{i}: {item.kind} '{item.target}' has no argument '{arg}'; "
                    f"it has: {', '.join(sorted(arg_names)) or 'none'}"
                )
    return problems
