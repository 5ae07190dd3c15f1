"""Helpers shared by the monitor families: the watched contracts by address (with their function
selectors and event decoders), block anchors and eth_call encoding/decoding."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.chain import artifacts
from fictra.chain.decode import DecodeError, EventDecoder, event_decoders, function_decoders
from fictra.chain.manifest import Manifest
from fictra.chain.types import Block, Log, Tx
from fictra.errors import ConfigError, RpcError
from fictra.monitors.config import MonitorBase

FEED_PREFIX = "Feed:"
ZERO_ROLE = "0x" + "00" * 32


def block_finding(
    config: MonitorBase,
    *,
    network: str,
    severity: Severity,
    summary: str,
    labels: dict[str, str],
    block: BlockRef,
    evidence: dict[str, object],
    tx_hashes: tuple[str, ...] = (),
) -> Finding:
    """A finding of monitor ``config`` anchored on ``block``, with the confirmations the monitor wants."""
    return Finding(
        monitor=config.name,
        severity=severity,
        summary=summary,
        labels=labels,
        network=network,
        block=block,
        tx_hashes=tx_hashes,
        evidence=evidence,
        confirmations=config.confirmations,
    )


def ref(block: Block) -> BlockRef:
    return BlockRef(block.number, block.hash)


def selector(signature: str) -> str:
    """``"paused()"`` -> ``"0x5c975abb"``."""
    return "0x" + keccak(text=signature)[:4].hex()


def topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


def has_data(raw: Any) -> bool:
    """False for a call to an address without code at that block (answer "0x") or a non-answer."""
    return isinstance(raw, str) and len(raw) > 2


def decode_word(raw: Any, abi_type: str, *, what: str) -> Any:
    """Decode an eth_call answer holding ``abi_type`` (a tuple type like ``(uint80,int256)`` works too)."""
    try:
        data = bytes.fromhex(str(raw)[2:])
        types = [t for t in abi_type[1:-1].split(",")] if abi_type.startswith("(") else [abi_type]
        values = abi_decode(types, data)
    except (ValueError, TypeError, OverflowError) as exc:
        raise RpcError(f"Malformed answer to {what}: {str(exc)[:80]}.") from None
    return tuple(values) if abi_type.startswith("(") else values[0]


@dataclass(frozen=True, slots=True)
class Watched:
    """One watched contract: its manifest name, address and ABI lookups."""

    name: str
    address: str
    artifact: str
    proxy: bool
    implementation: str | None
    meta: dict[str, object]
    functions: dict[str, str]  # selector -> function name
    events: dict[str, EventDecoder]  # topic0 -> decoder

    def function_of(self, tx: Tx) -> str:
        sel = tx.selector
        if sel is None:
            return f"{self.name}.<transfer>"
        return f"{self.name}.{self.functions.get(sel, sel)}"

    def decode(self, log: Log) -> tuple[str, dict[str, Any]] | None:
        decoder = self.events.get(log.topics[0]) if log.topics else None
        if decoder is None:
            return None
        try:
            return decoder.name, decoder.decode(log)
        except DecodeError:
            return None


@dataclass(slots=True)
class ContractIndex:
    by_address: dict[str, Watched] = field(default_factory=dict)
    by_name: dict[str, Watched] = field(default_factory=dict)

    @classmethod
    def from_manifest(cls, manifest: Manifest, names: Sequence[str] = ()) -> ContractIndex:
        """The contracts named in ``names`` (every manifest contract when empty)."""
        unknown = [n for n in names if n not in manifest.contracts]
        if unknown:
            known = ", ".join(sorted(manifest.contracts))
            raise ConfigError(
                f"Monitor 'contracts' names {', '.join(unknown)}, not in the deployment manifest. "
                f"Known: {known}."
            )
        index = cls()
        for name in names or sorted(manifest.contracts):
            entry = manifest.contracts[name]
            abi = artifacts.load(entry.artifact).abi
            watched = Watched(
                name=name,
                address=entry.address.lower(),
                artifact=entry.artifact,
                proxy=entry.proxy,
                implementation=entry.implementation.lower() if entry.implementation else None,
                meta=dict(entry.meta),
                functions={f.selector: f.name for f in function_decoders(abi)},
                events={e.topic0: e for e in event_decoders(abi)},
            )
            index.by_address[watched.address] = watched
            index.by_name[name] = watched
        return index

    def get(self, address: str | None) -> Watched | None:
        return self.by_address.get(address) if address else None

    def feeds(self) -> list[Watched]:
        return [w for w in self.by_name.values() if w.name.startswith(FEED_PREFIX)]


def top(counts: dict[str, int] | dict[str, float], n: int = 5) -> list[list[object]]:
    """The ``n`` largest entries as ``[[key, value], ...]`` (JSON-friendly evidence)."""
    return [[k, v] for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def lower_all(addresses: Iterable[str]) -> set[str]:
    return {a.lower() for a in addresses}
