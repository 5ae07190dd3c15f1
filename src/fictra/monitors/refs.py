"""``monitors/*.yaml`` and ``rules/*.yaml``: parse the list files, then check every monitor's and rule's
references: unique names, contracts that exist in the manifest, events/functions that exist in the
contract's ABI, endpoints that exist in the network."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, get_args

from pydantic import TypeAdapter, ValidationError

from fictra.chain.config import NetworkConfig
from fictra.chain.manifest import Manifest
from fictra.config.problems import problems_of
from fictra.config.sections import Document, Sourced, broken
from fictra.errors import ConfigError
from fictra.monitors.config import (
    MONITOR_TYPES,
    ConcentrationMonitor,
    MonitorConfig,
    NodeHealthMonitor,
    OracleMonitor,
)
from fictra.rules.config import EventRuleConfig

_MONITOR = TypeAdapter[MonitorConfig](MonitorConfig)
MONITOR_TYPE_NAMES = sorted(str(get_args(m.model_fields["type"].annotation)[0]) for m in MONITOR_TYPES)


def _list_file(doc: Document, key: str, problems: list[str]) -> list[Sourced]:
    rel, raw = doc.rel, doc.data
    if raw is None or broken(doc):
        return []
    if not isinstance(raw, dict):
        problems.append(f"{rel}:(top): expected a mapping with a '{key}:' list")
        return []
    for extra in sorted(set(raw) - {key}):
        problems.append(f"{rel}:{extra}: unknown key (this file holds only '{key}:')")
    items = raw.get(key) or []
    if not isinstance(items, list):
        problems.append(f"{rel}:{key}: expected a list")
        return []
    out = []
    for i, item in enumerate(items):
        prefix = [key, str(i)]
        try:
            if key == "rules":
                out.append(Sourced(rel, ".".join(prefix), EventRuleConfig.model_validate(item)))
            else:
                out.append(Sourced(rel, ".".join(prefix), _MONITOR.validate_python(item)))
        except ValidationError as exc:
            if key == "rules":
                problems.extend(problems_of(rel, prefix, exc))
            else:
                tag = item.get("type") if isinstance(item, dict) else None
                union = ("monitor type", MONITOR_TYPE_NAMES)
                problems.extend(problems_of(rel, prefix, exc, tag=str(tag), union=union))
    return out


def parse_monitors(docs: Sequence[Document], problems: list[str]) -> list[Sourced]:
    """Every ``monitors:`` item of ``monitors/*.yaml``, with where it came from."""
    return [s for doc in docs for s in _list_file(doc, "monitors", problems)]


def parse_rules(docs: Sequence[Document], problems: list[str]) -> list[Sourced]:
    """Every ``rules:`` item of ``rules/*.yaml``, with where it came from."""
    return [s for doc in docs for s in _list_file(doc, "rules", problems)]


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
            if isinstance(item, ConcentrationMonitor):
                refs.append((f"{s.path}.token", item.token))
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
