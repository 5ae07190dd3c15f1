"""Helpers shared by the monitor families: the watched contracts by address (with their function
selectors and event decoders), block anchors, eth_call encoding/decoding and the set of conditions a
monitor currently reports (so it emits a Finding when a condition starts and a Clear when it ends).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.crypto import keccak
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import BlockRef, Clear, Finding
from fictra.chain import artifacts
from fictra.chain.types import Block, Log, Tx
from fictra.clock import Clock
from fictra.devnet.manifest import Manifest
from fictra.errors import ConfigError, RpcError
from fictra.monitors.base import MonitorOutput
from fictra.rules.anomaly import BaselineSet
from fictra.rules.baselines import load_baselines, save_baselines
from fictra.rules.decode import DecodeError, EventDecoder, event_decoders, function_decoders
from fictra.rules.models import BaselineState

FEED_PREFIX = "Feed:"
ZERO_ROLE = "0x" + "00" * 32


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


def label_key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


class Conditions:
    """The conditions one monitor currently reports. ``hold`` emits the finding only when the
    condition starts (or ``always``); ``release`` emits a Clear only for a condition that holds."""

    def __init__(self, *, monitor: str, network: str) -> None:
        self.monitor = monitor
        self.network = network
        self.active: dict[tuple[tuple[str, str], ...], Finding] = {}

    def hold(self, finding: Finding, out: MonitorOutput, *, always: bool = False) -> None:
        key = label_key(finding.labels)
        if key not in self.active or always:
            out.findings.append(finding)
        self.active[key] = finding

    def release(self, labels: dict[str, str], out: MonitorOutput, *, block: BlockRef | None = None) -> None:
        if self.active.pop(label_key(labels), None) is not None:
            out.clears.append(Clear(monitor=self.monitor, labels=labels, network=self.network, block=block))

    def holds(self, labels: dict[str, str]) -> bool:
        return label_key(labels) in self.active

    def forget_after(self, block_number: int) -> None:
        """A reorg retracts alerts anchored above ``block_number``: forget those conditions too, so
        the new branch raises them again if they still hold."""
        for key, finding in list(self.active.items()):
            if finding.block is not None and finding.block.number > block_number:
                del self.active[key]

    def matching(self, **wanted: str) -> list[dict[str, str]]:
        return [dict(key) for key in self.active if all(dict(key).get(k) == v for k, v in wanted.items())]


def top(counts: dict[str, int] | dict[str, float], n: int = 5) -> list[list[object]]:
    """The ``n`` largest entries as ``[[key, value], ...]`` (JSON-friendly evidence)."""
    return [[k, v] for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]]


def lower_all(addresses: Iterable[str]) -> set[str]:
    return {a.lower() for a in addresses}


class BaselineStore:
    """Loads a monitor's baselines once and saves the series a batch touched with one upsert (no
    read-before-write), in the caller's session so they commit with the follower's checkpoint."""

    def __init__(self, *, monitor: str, baselines: BaselineSet, clock: Clock) -> None:
        self.monitor = monitor
        self.baselines = baselines
        self.clock = clock
        self.loaded = False

    async def load(self, session: AsyncSession) -> None:
        if not self.loaded:
            self.baselines.load_state(await load_baselines(session, monitor=self.monitor))
            self.loaded = True

    async def save(self, session: AsyncSession, series: Iterable[str]) -> None:
        now = self.clock.now()
        states = {
            key: self.baselines.series[key].to_state() for key in set(series) if key in self.baselines.series
        }
        if not states:
            return
        rows = [
            {"monitor": self.monitor, "series": key, "state": state, "updated_at": now}
            for key, state in sorted(states.items())
        ]
        dialect = session.bind.dialect.name if session.bind is not None else ""
        if dialect == "postgresql":
            pg = postgresql_insert(BaselineState).values(rows)
            await session.execute(
                pg.on_conflict_do_update(
                    index_elements=["monitor", "series"],
                    set_={"state": pg.excluded.state, "updated_at": pg.excluded.updated_at},
                )
            )
        elif dialect == "sqlite":
            lite = sqlite_insert(BaselineState).values(rows)
            await session.execute(
                lite.on_conflict_do_update(
                    index_elements=["monitor", "series"],
                    set_={"state": lite.excluded.state, "updated_at": lite.excluded.updated_at},
                )
            )
        else:
            await save_baselines(session, monitor=self.monitor, states=states, clock=self.clock)
