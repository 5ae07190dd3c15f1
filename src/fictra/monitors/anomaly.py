"""Anomaly (block-driven): one per-block metric fed into persisted EWMA baselines
(:mod:`fictra.monitors.baseline`, state in ``anomaly_baselines``), one baseline per series — the network,
each watched contract, or each ``Contract.function`` (``Contract.Event`` for event_count). A finding
fires when ``|z| > z_threshold`` after the warm-up and clears once ``|z| <= clear_z`` (hysteresis).

Metrics per block: tx_count, gas_used_ratio (gas used / gas limit, by the txs of the series),
base_fee (gwei, network only), pt_transfer_volume (PT moved by Transfer logs, in PT), event_count,
error_rate (reverted share; only blocks where the series has calls). Count-like series of known
keys that are absent from a block are observed as 0, so a baseline learns quiet blocks too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Clear, Finding
from fictra.chain.manifest import Manifest
from fictra.chain.types import Block, BlockBatch, Reorg
from fictra.clock import Clock
from fictra.monitors.base import MonitorOutput
from fictra.monitors.baseline import BaselineSet, signal
from fictra.monitors.common import ContractIndex, ref, topic
from fictra.monitors.config import AnomalyMonitor
from fictra.monitors.state import BaselineStore, Conditions

TRANSFER = topic("Transfer(address,address,uint256)")
NETWORK = "network"
ZERO_FILLED = frozenset({"tx_count", "gas_used_ratio", "pt_transfer_volume", "event_count"})


class AnomalyCheck:
    def __init__(self, *, config: AnomalyMonitor, manifest: Manifest, clock: Clock) -> None:
        self.config = config
        self.name = config.name
        self.network = manifest.network
        self.clock = clock
        self.index = ContractIndex.from_manifest(manifest, config.contracts)
        pt = manifest.contracts.get("PaymentToken")
        self.pt_address = pt.address.lower() if pt else None
        self.baselines = BaselineSet(
            alpha=config.alpha,
            warmup=config.warmup,
            z_threshold=config.z_threshold,
            clear_z=config.clear_z,
            min_std=config.min_std,
            winsor_z=config.winsor_z,
            clear_after=config.clear_after,
            rewarm=config.rewarm,
            idle_after=config.idle_after,
            pause_after=config.pause_after.total_seconds(),
        )
        self.store = BaselineStore(monitor=config.name, baselines=self.baselines, clock=clock)
        self.known: set[str] = set()
        if config.series_by == "contract" and config.metric in ZERO_FILLED:
            self.known = (
                set(self.index.by_name) if config.metric != "pt_transfer_volume" else {"PaymentToken"}
            )
        self.initial_known = frozenset(self.known)
        self.conditions = Conditions(monitor=config.name, network=self.network)

    def snapshot(self) -> dict[str, Any]:
        """The series keys known so far and the open conditions (baselines: ``anomaly_baselines``)."""
        return {"known": sorted(self.known), "conditions": self.conditions.snapshot()}

    def restore(self, state: dict[str, Any] | None) -> None:
        self.known = set(self.initial_known)
        self.known.update((state or {}).get("known", []))
        self.conditions.restore(state["conditions"] if state else None)
        self.store.reset()  # baselines are re-read from the DB with the next batch

    def _key(self, contract: str, part: str) -> str:
        if self.config.series_by == "contract":
            return contract
        return f"{contract}.{part}"

    def values(self, block: Block) -> dict[str, float]:
        """The metric's value per series key for ``block``."""
        metric, by = self.config.metric, self.config.series_by
        if metric == "base_fee":
            return {NETWORK: (block.base_fee_per_gas or 0) / 1e9}
        if by == "network":
            if metric == "tx_count":
                return {NETWORK: float(len(block.txs))}
            if metric == "gas_used_ratio":
                return {NETWORK: block.gas_used / block.gas_limit if block.gas_limit else 0.0}
            if metric == "event_count":
                return {NETWORK: float(len(block.logs))}
        sums: defaultdict[str, float] = defaultdict(float)
        calls: Counter[str] = Counter()
        for tx in block.txs:
            watched = self.index.get(tx.to)
            if metric == "pt_transfer_volume":
                if tx.status == 1:
                    for log in tx.logs:
                        if log.address == self.pt_address and log.topics and log.topics[0] == TRANSFER:
                            key = NETWORK if by == "network" else self._key("PaymentToken", "Transfer")
                            sums[key] += (int(log.data, 16) if len(log.data) > 2 else 0) / 1e18
                continue
            if metric == "event_count":
                for log in tx.logs:
                    source = self.index.get(log.address)
                    if source is not None:
                        decoded = source.decode(log)
                        sums[self._key(source.name, decoded[0] if decoded else log.topics[0][:10])] += 1
                continue
            if watched is None:
                if by == "network" and metric == "error_rate":
                    calls[NETWORK] += 1
                    sums[NETWORK] += tx.status == 0
                continue
            key = (
                NETWORK
                if by == "network"
                else self._key(watched.name, watched.function_of(tx).split(".", 1)[1])
            )
            if metric == "tx_count":
                sums[key] += 1
            elif metric == "gas_used_ratio":
                sums[key] += tx.gas_used / block.gas_limit if block.gas_limit else 0.0
            elif metric == "error_rate":
                calls[key] += 1
                sums[key] += tx.status == 0
        if metric == "error_rate":
            return {key: sums[key] / n for key, n in calls.items()}
        self.known.update(sums)
        if by == "network":
            self.known.add(NETWORK)
        return {key: float(sums.get(key, 0.0)) for key in self.known}

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        if not batch.blocks:
            return MonitorOutput()
        await self.conditions.resume(session)
        if not self.store.loaded:
            await self.store.load(session)
            if self.config.metric in ZERO_FILLED:
                self.known.update(self.baselines.series)
        out = MonitorOutput()
        touched: set[str] = set()
        for block in batch.blocks:
            values = self.values(block)
            touched.update(values)
            for series, value in sorted(values.items()):
                score = self.baselines.observe(series, value, block.timestamp)
                sig = signal(
                    score,
                    monitor=self.name,
                    metric=self.config.metric,
                    series=series,
                    severity=self.config.severity,
                    network=self.network,
                    block=ref(block),
                    confirmations=self.config.confirmations,
                )
                if isinstance(sig, Finding):
                    self.conditions.hold(sig, out)
                elif isinstance(sig, Clear):
                    out.clears.append(sig)
                    self.conditions.active.pop(tuple(sorted(sig.labels.items())), None)
        await self.store.save(session, touched)
        return out

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        """Baselines cannot unlearn a block; the few replaced blocks only nudge the EWMA. Conditions
        anchored on removed blocks are forgotten (the pipeline retracts their alerts)."""
        self.conditions.forget_after(reorg.common_ancestor)
        return MonitorOutput()
