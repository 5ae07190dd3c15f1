"""Gas (block-driven): per block, the base fee, the median priority fee (effective gas price minus base
fee over the block's transactions), the gas-used ratio, the gas of each configured
``Contract.function`` call, and base-fee spikes against a persisted EWMA baseline
(:mod:`fictra.monitors.baseline`). Each condition is raised at the block where it is seen and cleared at
the first block where it no longer holds (a function's gas clears at its next call within the ceiling).
"""

from __future__ import annotations

from statistics import median
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Clear, Finding, Severity
from fictra.chain.manifest import Manifest
from fictra.chain.types import Block, BlockBatch, Reorg
from fictra.clock import Clock
from fictra.errors import ConfigError
from fictra.monitors.base import MonitorOutput
from fictra.monitors.baseline import BaselineSet, signal
from fictra.monitors.common import ContractIndex, block_finding, ref
from fictra.monitors.config import GasMonitor
from fictra.monitors.state import BaselineStore, Conditions

GWEI = 1e9
SPIKE_SERIES = "base_fee"


class GasCheck:
    def __init__(self, *, config: GasMonitor, manifest: Manifest, clock: Clock) -> None:
        self.config = config
        self.name = config.name
        self.network = manifest.network
        self.clock = clock
        self.index = ContractIndex.from_manifest(manifest, config.contracts)
        known = {f"{w.name}.{fn}" for w in self.index.by_name.values() for fn in w.functions.values()}
        unknown = sorted(set(config.thresholds.max_gas_per_function) - known)
        if unknown:
            raise ConfigError(
                f"Monitor '{config.name}' key 'thresholds.max_gas_per_function' names {', '.join(unknown)}: "
                "no such function on the watched contracts. Use 'Contract.function', "
                "e.g. 'PaymentToken.transfer'."
            )
        t = config.thresholds
        self.baselines = BaselineSet(
            alpha=t.baseline_alpha, warmup=t.baseline_warmup, z_threshold=t.spike_z, clear_z=t.spike_z / 2
        )
        self.store = BaselineStore(monitor=config.name, baselines=self.baselines, clock=clock)
        self.conditions = Conditions(monitor=config.name, network=self.network)

    def snapshot(self) -> dict[str, Any]:
        """The open conditions (the base-fee baseline is in ``anomaly_baselines``)."""
        return {"conditions": self.conditions.snapshot()}

    def restore(self, state: dict[str, Any] | None) -> None:
        self.conditions.restore(state["conditions"] if state else None)
        self.store.reset()

    def _finding(
        self,
        severity: Severity,
        summary: str,
        labels: dict[str, str],
        block: Block,
        evidence: dict[str, object],
    ) -> Finding:
        return block_finding(
            self.config,
            network=self.network,
            severity=severity,
            summary=summary,
            labels=labels,
            block=ref(block),
            evidence=evidence,
        )

    def _limit(
        self, labels: dict[str, str], over: bool, finding: Finding | None, out: MonitorOutput, block: Block
    ) -> None:
        if over and finding is not None:
            self.conditions.hold(finding, out)
        else:
            self.conditions.release(labels, out, block=ref(block))

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        if not batch.blocks:
            return MonitorOutput()
        await self.conditions.resume(session)
        await self.store.load(session)
        out = MonitorOutput()
        for block in batch.blocks:
            self._block(block, out)
        await self.store.save(session, [SPIKE_SERIES])
        return out

    def _block(self, block: Block, out: MonitorOutput) -> None:
        t, sev = self.config.thresholds, self.config.severity
        base = block.base_fee_per_gas
        if base is not None:
            labels = {"condition": "base_fee"}
            gwei = base / GWEI
            over = t.max_base_fee_gwei is not None and gwei > t.max_base_fee_gwei
            self._limit(
                labels,
                over,
                self._finding(
                    sev.base_fee,
                    f"Base fee {gwei:.2f} gwei at block {block.number} (limit {t.max_base_fee_gwei} gwei)",
                    labels,
                    block,
                    {"observed_gwei": gwei, "threshold_gwei": t.max_base_fee_gwei},
                )
                if over
                else None,
                out,
                block,
            )
            score = self.baselines.observe(SPIKE_SERIES, gwei, block.timestamp)
            sig = signal(
                score,
                monitor=self.name,
                metric="base_fee_gwei",
                series=SPIKE_SERIES,
                severity=sev.spike,
                network=self.network,
                block=ref(block),
                confirmations=self.config.confirmations,
            )
            if isinstance(sig, Finding):
                self.conditions.hold(sig, out)
            elif isinstance(sig, Clear):
                self.conditions.release(sig.labels, out, block=ref(block))
        if block.txs:
            tips = [max(tx.effective_gas_price - (base or 0), 0) / GWEI for tx in block.txs]
            tip = median(tips)
            labels = {"condition": "priority_fee"}
            over = t.max_priority_fee_gwei is not None and tip > t.max_priority_fee_gwei
            self._limit(
                labels,
                over,
                self._finding(
                    sev.priority_fee,
                    f"Median priority fee {tip:.2f} gwei at block {block.number} "
                    f"(limit {t.max_priority_fee_gwei})",
                    labels,
                    block,
                    {"observed_gwei": tip, "threshold_gwei": t.max_priority_fee_gwei, "txs": len(tips)},
                )
                if over
                else None,
                out,
                block,
            )
        if block.gas_limit:
            ratio = block.gas_used / block.gas_limit
            labels = {"condition": "gas_used_ratio"}
            over = ratio > t.max_gas_used_ratio
            self._limit(
                labels,
                over,
                self._finding(
                    sev.gas_used_ratio,
                    f"Block {block.number} is {ratio:.0%} full (limit {t.max_gas_used_ratio:.0%})",
                    labels,
                    block,
                    {"observed": ratio, "threshold": t.max_gas_used_ratio, "gas_used": block.gas_used},
                )
                if over
                else None,
                out,
                block,
            )
        if t.max_gas_per_function:
            self._functions(block, out)

    def _functions(self, block: Block, out: MonitorOutput) -> None:
        ceilings = self.config.thresholds.max_gas_per_function
        for tx in block.txs:
            watched = self.index.get(tx.to)
            if watched is None:
                continue
            fn = watched.function_of(tx)
            ceiling = ceilings.get(fn)
            if ceiling is None:
                continue
            labels = {"condition": "function_gas", "function": fn}
            over = tx.gas_used > ceiling
            finding = Finding(
                monitor=self.name,
                severity=self.config.severity.function_gas,
                summary=f"{fn} used {tx.gas_used:,} gas (ceiling {ceiling:,})",
                labels=labels,
                network=self.network,
                block=ref(block),
                tx_hashes=(tx.hash,),
                evidence={"observed": tx.gas_used, "threshold": ceiling},
                confirmations=self.config.confirmations,
            )
            self._limit(labels, over, finding, out, block)

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        self.conditions.forget_after(reorg.common_ancestor)
        return MonitorOutput()
