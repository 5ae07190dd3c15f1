"""The proof-of-reserve block monitor: at the last block of every batch, the proof of reserve
(:mod:`fictra.reserve.reads`), one row in ``reserve_proofs`` (same transaction as the follower's
checkpoint) and the conditions:

- ``collateral_below_full``: the counted value (stale prices at zero) over the PT supply is below
  ``min_collateral_ratio`` — P0 by default, raised at the head the follower processes;
- ``reserve_price_stale`` (one per asset): the asset's price is older than its maximum age or not
  positive, so the asset is valued at zero in the ratio;
- ``liquidity_short``: tier-1 assets are under ``liquidity.min_tier1_share`` of the counted value, or
  cannot pay ``liquidity.stress_redemption_share`` of the PT supply at once (P2 by default);
- ``allocation_drift`` (one per asset of ``reserve.yaml:allocation``): the asset's weight in the counted
  value is out of its band around the target (P2 by default); ``fictra reserve rebalance`` proposes the
  trades back to target.

Both clear when the state is normal again. On a reorg the conditions anchored above the common ancestor
are forgotten (the pipeline retracts their alerts) and the proofs of the removed blocks deleted.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.chain.types import BlockBatch, Reorg
from fictra.clock import Clock
from fictra.monitors.base import MonitorOutput
from fictra.monitors.state import Conditions
from fictra.reserve.config import AllocationTarget, LiquidityPolicy, ProofConfig
from fictra.reserve.models import ReserveProof
from fictra.reserve.policy import drift, liquidity
from fictra.reserve.proof import Proof
from fictra.reserve.reads import ReserveReader

__all__ = ["ProofOfReserveMonitor", "findings_of"]

E18 = 10**18


def _usd(wei: int) -> str:
    return f"{wei / E18:,.0f}"


def findings_of(
    proof: Proof, config: ProofConfig, *, network: str, at: BlockRef
) -> tuple[list[Finding], list[dict[str, str]]]:
    """The findings that hold for ``proof``, and the labels of the conditions that do not hold."""
    held: list[Finding] = []
    released: list[dict[str, str]] = []
    below = {"contract": config.reserve, "condition": "collateral_below_full"}
    ratio = proof.ratio
    if ratio is not None and ratio < config.min_collateral_ratio:
        stale = [a.reading.symbol for a in proof.stale]
        note = f"; stale prices valued at zero: {', '.join(stale)}" if stale else ""
        held.append(
            Finding(
                monitor=config.monitor,
                severity=config.below_severity,
                summary=f"Reserve collateral ratio {ratio:.4f} is below {config.min_collateral_ratio} at "
                f"block {proof.block} (reserve {_usd(proof.value)} USD vs {_usd(proof.supply)} PT{note})",
                labels=below,
                network=network,
                block=at,
                evidence={
                    "observed_ratio": ratio,
                    "threshold": config.min_collateral_ratio,
                    "reserve_value": str(proof.value),
                    "pt_supply": str(proof.supply),
                    "assets": [a.as_dict() for a in proof.assets],
                },
                confirmations=config.confirmations,
            )
        )
    else:
        released.append(below)
    for asset in proof.assets:
        labels = {
            "contract": config.reserve,
            "condition": "reserve_price_stale",
            "asset": asset.reading.symbol,
        }
        if not asset.stale:
            released.append(labels)
            continue
        held.append(
            Finding(
                monitor=config.monitor,
                severity=config.stale_severity,
                summary=f"Reserve asset {asset.reading.symbol} valued at zero: its {asset.reading.feed} "
                f"{asset.reason} (would be {_usd(asset.value)} USD)",
                labels=labels,
                network=network,
                block=at,
                evidence=asset.as_dict(),
                confirmations=config.confirmations,
            )
        )
    return held, released


def drift_findings(
    proof: Proof,
    config: ProofConfig,
    allocation: dict[str, AllocationTarget],
    severity: Severity,
    *,
    network: str,
    at: BlockRef,
) -> tuple[list[Finding], list[dict[str, str]]]:
    """Allocation-band breaches of ``proof`` (and the labels of the assets within their band)."""
    held: list[Finding] = []
    released: list[dict[str, str]] = []
    for d in drift(proof, allocation):
        labels = {"contract": config.reserve, "condition": "allocation_drift", "asset": d.symbol}
        if not d.breach:
            released.append(labels)
            continue
        held.append(
            Finding(
                monitor=config.monitor, severity=severity, labels=labels, network=network, block=at,
                summary=f"Reserve asset {d.symbol} is {d.weight * 100:.1f}% of the reserve, outside its band "
                f"{d.target * 100:.1f}% ± {d.band * 100:.1f}% (rebalance: fictra reserve rebalance)",
                evidence=d.as_dict(), confirmations=config.confirmations,
            )
        )  # fmt: skip
    return held, released


def liquidity_findings(
    proof: Proof,
    config: ProofConfig,
    allocation: dict[str, AllocationTarget],
    policy: LiquidityPolicy,
    *,
    network: str,
    at: BlockRef,
) -> tuple[list[Finding], list[dict[str, str]]]:
    """The liquidity shortfall of ``proof`` (tier-1 share, redemption stress), or its release."""
    found = liquidity(
        proof, allocation, min_share=policy.min_tier1_share, stress_share=policy.stress_redemption_share
    )
    labels = {"contract": config.reserve, "condition": "liquidity_short"}
    if not found.short:
        return [], [labels]
    summary = (
        f"Reserve liquidity short: tier-1 assets are {found.share * 100:.1f}% of the reserve (minimum "
        f"{policy.min_tier1_share * 100:.0f}%) and cover {found.tier1_value / E18:,.0f} USD of a "
        f"{found.stress_needed / E18:,.0f} USD redemption stress"
    )
    finding = Finding(
        monitor=config.monitor, severity=policy.severity, summary=summary, labels=labels, network=network,
        block=at, evidence=found.as_dict(), confirmations=config.confirmations,
    )  # fmt: skip
    return [finding], []


class ProofOfReserveMonitor:
    """A :class:`~fictra.monitors.base.Monitor` (block-driven)."""

    def __init__(
        self,
        *,
        config: ProofConfig,
        reader: ReserveReader,
        network: str,
        clock: Clock,
        allocation: dict[str, AllocationTarget] | None = None,
        drift_severity: Severity = Severity.P2,
        liquidity: LiquidityPolicy | None = None,
    ) -> None:
        self.liquidity = liquidity
        self.config = config
        self.allocation = allocation or {}
        self.drift_severity = drift_severity
        self.reader = reader
        self.network = network
        self.clock = clock
        self.name = config.monitor
        self.conditions = Conditions(monitor=config.monitor, network=network)
        self.latest: Proof | None = None

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        out = MonitorOutput()
        if not batch.blocks:
            return out
        await self.conditions.resume(session)
        last = batch.blocks[-1]
        proof = await self.reader.read(block=last.number, timestamp=last.timestamp)
        at = BlockRef(last.number, last.hash)
        held, released = findings_of(proof, self.config, network=self.network, at=at)
        if self.allocation and proof.value > 0:
            more, fine = drift_findings(
                proof, self.config, self.allocation, self.drift_severity, network=self.network, at=at
            )
            held, released = held + more, released + fine
            if self.liquidity is not None:
                more, fine = liquidity_findings(
                    proof, self.config, self.allocation, self.liquidity, network=self.network, at=at
                )
                held, released = held + more, released + fine
        for finding in held:
            self.conditions.hold(finding, out)
        for labels in released:
            self.conditions.release(labels, out, block=at)
        session.add(
            ReserveProof(
                network=self.network,
                block_number=proof.block,
                block_time=proof.timestamp,
                supply=str(proof.supply),
                value=str(proof.value),
                ratio=proof.ratio,
                stale=len(proof.stale),
                assets=[a.as_dict() for a in proof.assets],
                recorded_at=self.clock.now(),
            )
        )
        self.latest = proof
        return out

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        self.conditions.forget_after(reorg.common_ancestor)
        await session.execute(
            delete(ReserveProof).where(
                ReserveProof.network == self.network, ReserveProof.block_number > reorg.common_ancestor
            )
        )
        return MonitorOutput()
