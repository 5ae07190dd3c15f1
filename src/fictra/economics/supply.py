"""PT supply analysis from its Transfer events, with numpy: mints and burns, holders, concentration (top-10
share, Gini coefficient of the balances) and velocity (transfer volume over the average supply)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from fictra.economics.fees import ZERO, Transfer

__all__ = ["SupplyAnalysis", "analyse_supply", "balances_after", "gini"]


def gini(balances: list[int]) -> float:
    """Gini coefficient of non-negative ``balances`` (0: equal, → 1: one holder has everything)."""
    x = np.sort(np.asarray([float(b) for b in balances if b > 0], dtype=np.float64))
    n = x.size
    if n == 0 or x.sum() == 0:
        return 0.0
    index = np.arange(1, n + 1)
    return float((2.0 * (index * x).sum()) / (n * x.sum()) - (n + 1) / n)


@dataclass(frozen=True)
class SupplyAnalysis:
    supply_start: int
    supply_end: int
    minted: int
    burned: int
    mints: int
    burns: int
    holders: int
    top10_share: float
    gini: float
    volume: int  # transferred between holders
    velocity: float  # volume / mean supply

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, int) and v > 2**53 else v) for k, v in self.__dict__.items()}


def balances_after(transfers: list[Transfer]) -> dict[str, int]:
    """Balances after replaying ``transfers`` from nothing."""
    out: dict[str, int] = {}
    for t in transfers:
        if t.sender.lower() != ZERO:
            out[t.sender.lower()] = out.get(t.sender.lower(), 0) - t.value
        if t.recipient.lower() != ZERO:
            out[t.recipient.lower()] = out.get(t.recipient.lower(), 0) + t.value
    return out


def analyse_supply(opening: dict[str, int], transfers: list[Transfer]) -> SupplyAnalysis:
    """``opening``: balances before the first transfer; ``transfers`` in chain order."""
    balances = {a.lower(): b for a, b in opening.items() if b}
    supply_start = sum(balances.values())
    minted = burned = mints = burns = volume = 0
    for t in transfers:
        s, r = t.sender.lower(), t.recipient.lower()
        if s == ZERO:
            minted, mints = minted + t.value, mints + 1
        else:
            balances[s] = balances.get(s, 0) - t.value
        if r == ZERO:
            burned, burns = burned + t.value, burns + 1
        else:
            balances[r] = balances.get(r, 0) + t.value
        if s != ZERO and r != ZERO:
            volume += t.value
    held = sorted((b for b in balances.values() if b > 0), reverse=True)
    supply_end = sum(held)
    mean_supply = (supply_start + supply_end) / 2
    return SupplyAnalysis(
        supply_start=supply_start, supply_end=supply_end, minted=minted, burned=burned, mints=mints,
        burns=burns, holders=len(held), top10_share=sum(held[:10]) / supply_end if supply_end else 0.0,
        gini=gini(held), volume=volume, velocity=volume / mean_supply if mean_supply else 0.0,
    )  # fmt: skip
