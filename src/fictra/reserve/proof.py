"""The proof of reserve as a pure computation over what was read at one block.

Each reserve asset is valued as ``balance x price`` (both scaled by their decimals) when its price is
fresh; a price older than its maximum age, or not positive, values the asset at **zero** in the ratio
(and is reported as stale), so a frozen oracle can never hide a shortfall. The collateral ratio is the
counted value over the PT supply (``None`` while the supply is zero). All money is integer USD wei
(18 decimals) so the figures are exact and comparable with the contract's ``reserveValue()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["AssetReading", "AssetValue", "Proof", "compute_proof"]

E18 = 10**18


@dataclass(frozen=True, slots=True)
class AssetReading:
    """What was read for one reserve asset at one block."""

    symbol: str
    token: str  # the asset's address
    feed: str  # the feed's manifest name (or address)
    balance: int  # held by the Reserve, in the asset's smallest unit
    decimals: int  # the asset's decimals
    answer: int  # the feed's latest answer
    feed_decimals: int
    round_id: int
    updated_at: int  # unix seconds of the answer
    max_age: int  # seconds


@dataclass(frozen=True, slots=True)
class AssetValue:
    reading: AssetReading
    value: int  # USD wei (18 decimals) at the feed price, whether counted or not
    counted: int  # what enters the ratio: value, or 0 when the price is stale or not positive
    age: int  # seconds since the answer
    stale: bool
    reason: str | None  # why it is not counted

    def as_dict(self) -> dict[str, Any]:
        r = self.reading
        return {
            "symbol": r.symbol,
            "token": r.token,
            "feed": r.feed,
            "balance": str(r.balance),
            "decimals": r.decimals,
            "price": r.answer / 10**r.feed_decimals,
            "round_id": r.round_id,
            "updated_at": r.updated_at,
            "age_s": self.age,
            "max_age_s": r.max_age,
            "value": str(self.value),
            "counted": str(self.counted),
            "stale": self.stale,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Proof:
    block: int
    timestamp: int
    assets: tuple[AssetValue, ...]
    supply: int  # PT supply (18 decimals)
    value: int  # counted reserve value, USD wei

    @property
    def ratio(self) -> float | None:
        return None if self.supply == 0 else self.value / self.supply

    @property
    def stale(self) -> list[AssetValue]:
        return [a for a in self.assets if a.stale]

    def as_dict(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "timestamp": self.timestamp,
            "supply": str(self.supply),
            "value": str(self.value),
            "ratio": self.ratio,
            "assets": [a.as_dict() for a in self.assets],
        }


def _value(reading: AssetReading) -> int:
    if reading.answer <= 0:
        return 0
    scale: int = 10**reading.decimals * 10**reading.feed_decimals
    return (reading.balance * reading.answer * E18) // scale


def value_asset(reading: AssetReading, *, now: int) -> AssetValue:
    """Value one asset at block time ``now`` (the same integer formula as ``Reserve.reserveValue``)."""
    value = _value(reading)
    age = max(0, now - reading.updated_at)
    reason = None
    if reading.answer <= 0:
        reason = f"price {reading.answer} is not positive"
    elif reading.updated_at == 0 or age > reading.max_age:
        reason = f"price is {age} s old (max {reading.max_age} s)"
    return AssetValue(reading, value, 0 if reason else value, age, reason is not None, reason)


def compute_proof(readings: list[AssetReading], *, supply: int, block: int, timestamp: int) -> Proof:
    """The proof of reserve at ``block`` (block time ``timestamp``)."""
    assets = tuple(value_asset(r, now=timestamp) for r in readings)
    return Proof(block, timestamp, assets, supply, sum(a.counted for a in assets))
