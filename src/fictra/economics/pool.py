"""Uniswap V2 pool arithmetic as pure functions (integers where the pair uses integers)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PoolState", "amount_out", "price_impact", "twap"]

Q112 = 2**112


def amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountOut: the 0.3% fee, integer division as the pair does."""
    if amount_in <= 0 or reserve_in <= 0 or reserve_out <= 0:
        return 0
    with_fee = amount_in * 997
    return (with_fee * reserve_out) // (reserve_in * 1000 + with_fee)


def price_impact(amount_in: int, reserve_in: int, reserve_out: int) -> float:
    """1 − execution price / spot price for selling ``amount_in`` (the fee included)."""
    out = amount_out(amount_in, reserve_in, reserve_out)
    if amount_in <= 0 or out <= 0:
        return 0.0
    spot = reserve_out / reserve_in
    return 1.0 - (out / amount_in) / spot


def twap(cumulative_now: int, cumulative_then: int, t_now: int, t_then: int) -> float | None:
    """The time-weighted average price between two observations of a UQ112x112 cumulative price."""
    if t_now <= t_then:
        return None
    return (cumulative_now - cumulative_then) / (t_now - t_then) / Q112


@dataclass(frozen=True, slots=True)
class PoolState:
    block: int
    timestamp: int
    reserve_pt: int
    reserve_cash: int
    cumulative_pt_price: int  # CASH per PT, UQ112x112 x seconds (the pair's priceXCumulativeLast)
    reserve_timestamp: int  # blockTimestampLast of getReserves

    @property
    def price(self) -> float:
        """CASH per PT at the pool."""
        return self.reserve_cash / self.reserve_pt if self.reserve_pt else 0.0

    def cumulative_at(self, timestamp: int) -> int:
        """The cumulative price extrapolated to ``timestamp`` (as UniswapV2OracleLibrary does)."""
        if not self.reserve_pt:
            return self.cumulative_pt_price
        elapsed = max(0, timestamp - self.reserve_timestamp)
        return self.cumulative_pt_price + (self.reserve_cash * Q112 // self.reserve_pt) * elapsed

    def depth(self, share: float) -> float:
        """Price impact of selling ``share`` of the PT reserve into the pool."""
        return price_impact(int(self.reserve_pt * share), self.reserve_pt, self.reserve_cash)
