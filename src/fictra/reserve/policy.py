"""The reserve's asset allocation policy as pure functions: each asset's weight in the counted value, its
drift from the target, whether it is out of its band, and the rebalancing trades that bring every asset back
to its target (value-neutral at oracle prices, each trade within the asset's liquidity limit).

A trade is exact: ``units`` of the asset (its smallest unit) and the USD value at the proof's price. Sells
come out of the reserve (``Reserve.withdraw`` to the reserve manager, who sells them off chain); buys go in
(``Reserve.deposit`` from the manager's inventory). The ``reserve_rebalance`` action kind executes them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from fictra.reserve.config import AllocationTarget
from fictra.reserve.proof import AssetValue, Proof

__all__ = ["Drift", "Liquidity", "Trade", "drift", "liquidity", "rebalance_trades"]

E18 = 10**18


@dataclass(frozen=True, slots=True)
class Drift:
    symbol: str
    weight: float
    target: float
    band: float
    tier: int

    @property
    def delta(self) -> float:
        return self.weight - self.target

    @property
    def breach(self) -> bool:
        return abs(self.delta) > self.band

    def as_dict(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol, "weight": self.weight, "target": self.target, "band": self.band,
            "tier": self.tier, "drift": self.delta, "breach": self.breach,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Trade:
    symbol: str
    token: str
    side: str  # sell | buy
    units: int  # smallest unit of the asset
    usd: int  # USD wei at the proof's price

    def as_dict(self) -> dict[str, Any]:
        return {"symbol": self.symbol, "token": self.token, "side": self.side, "units": str(self.units),
                "usd": str(self.usd)}  # fmt: skip


def drift(proof: Proof, policy: Mapping[str, AllocationTarget]) -> list[Drift]:
    """Weights against ``policy`` ({symbol: AllocationTarget}) for the assets it names."""
    total = proof.value
    out = []
    for a in proof.assets:
        target = policy.get(a.reading.symbol)
        if target is None:
            continue
        weight = a.counted / total if total else 0.0
        out.append(Drift(a.reading.symbol, weight, target.target, target.band, target.tier))
    return out


def _units(asset: AssetValue, usd: int) -> int:
    r = asset.reading
    if r.answer <= 0:
        return 0
    scale: int = 10**r.decimals * 10**r.feed_decimals
    return (usd * scale) // (r.answer * E18)


def rebalance_trades(proof: Proof, policy: Mapping[str, AllocationTarget]) -> list[Trade]:
    """The trades that move every policy asset to its target weight of the counted value, each capped at
    the asset's ``max_trade_usd`` (sells first). Stale assets are left alone (no trade at an unknown
    price)."""
    trades: list[Trade] = []
    total = proof.value
    for a in proof.assets:
        target = policy.get(a.reading.symbol)
        if target is None or a.stale:
            continue
        want = int(total * Fraction(str(target.target)))  # exact: the float's decimal text, not its binary
        usd = want - a.counted
        cap = int(target.max_trade_usd) * E18 if target.max_trade_usd is not None else None
        if cap is not None and abs(usd) > cap:
            usd = cap if usd > 0 else -cap
        units = _units(a, abs(usd))
        if units == 0:
            continue
        trades.append(Trade(a.reading.symbol, a.reading.token, "buy" if usd > 0 else "sell", units, abs(usd)))
    return sorted(trades, key=lambda t: (t.side != "sell", t.symbol))


@dataclass(frozen=True, slots=True)
class Liquidity:
    tier1_value: int  # USD wei counted in tier-1 assets
    share: float  # of the counted value
    stress_needed: int  # USD wei: stress_redemption_share x PT supply
    min_share: float

    @property
    def short(self) -> bool:
        return self.share < self.min_share or self.tier1_value < self.stress_needed

    def as_dict(self) -> dict[str, Any]:
        return {"tier1_value": str(self.tier1_value), "tier1_share": self.share, "min_share": self.min_share,
                "stress_needed": str(self.stress_needed), "short": self.short}  # fmt: skip


def liquidity(
    proof: Proof, policy: Mapping[str, AllocationTarget], *, min_share: float, stress_share: float
) -> Liquidity:
    """The tier-1 (most liquid) share of the counted value, and whether tier-1 assets alone could pay out
    ``stress_share`` of the PT supply at once (a redemption stress)."""
    tier1 = sum(
        a.counted for a in proof.assets if (t := policy.get(a.reading.symbol)) is not None and t.tier == 1
    )
    share = tier1 / proof.value if proof.value else 0.0
    needed = int(proof.supply * Fraction(str(stress_share)))
    return Liquidity(tier1, share, needed, min_share)
