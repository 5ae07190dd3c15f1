"""Realized volatility by EWMA (RiskMetrics, λ = 0.94) over log returns, with numpy."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["LAMBDA", "ewma_update", "ewma_volatility"]

LAMBDA = 0.94


def ewma_volatility(prices: NDArray[np.float64] | list[float], *, lam: float = LAMBDA) -> NDArray[np.float64]:
    """σ_t after each return of ``prices``: σ²_t = λ σ²_{t−1} + (1 − λ) r²_t, σ²_0 = r²_1."""
    p = np.asarray(prices, dtype=np.float64)
    if p.size < 2:
        return np.zeros(0)
    r = np.diff(np.log(p))
    var = np.empty_like(r)
    var[0] = r[0] ** 2
    for i in range(1, r.size):
        var[i] = lam * var[i - 1] + (1.0 - lam) * r[i] ** 2
    out: NDArray[np.float64] = np.sqrt(var)
    return out


def ewma_update(variance: float | None, last_price: float, price: float, *, lam: float = LAMBDA) -> float:
    """One step of the recursion (the monitor keeps ``variance`` between batches)."""
    r = float(np.log(price / last_price)) if last_price > 0 and price > 0 else 0.0
    return r * r if variance is None else lam * variance + (1.0 - lam) * r * r
