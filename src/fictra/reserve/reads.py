"""Read what the proof of reserve needs at one block, in one JSON-RPC batch: every reserve asset's
balance held by the Reserve and its feed's ``latestRoundData()``, plus the PT supply. The assets are the
manifest's ``Asset:<SYMBOL>`` entries (their ``feed`` meta names the price feed); decimals are read once.
A read that reverts or finds no code (a feed without a round yet) counts as a zero, stale price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.rpc import Call, CallReverted
from fictra.errors import ConfigError
from fictra.monitors.common import decode_word, has_data, selector
from fictra.reserve.proof import AssetReading, Proof, compute_proof

__all__ = ["AssetSpec", "ReserveReader", "asset_specs"]

BALANCE_OF = selector("balanceOf(address)")
LATEST = selector("latestRoundData()")
DECIMALS = selector("decimals()")
TOTAL_SUPPLY = selector("totalSupply()")
DEFAULT_MAX_AGE = 3600


@dataclass(frozen=True, slots=True)
class AssetSpec:
    symbol: str
    token: str
    feed_name: str
    feed: str
    max_age: int


def asset_specs(manifest: Manifest, *, max_age: int | None) -> list[AssetSpec]:
    """The reserve assets of ``manifest`` with their feeds (``max_age`` None: each feed's heartbeat)."""
    specs = []
    for name, entry in sorted(manifest.contracts.items()):
        if not name.startswith("Asset:"):
            continue
        feed_name = str(entry.meta.get("feed") or f"Feed:{name.removeprefix('Asset:')}")
        feed = manifest.contracts.get(feed_name)
        if feed is None:
            raise ConfigError(
                f"The manifest's {name} names the price feed '{feed_name}', which is not in the manifest; "
                "redeploy or fix the manifest."
            )
        heartbeat = feed.meta.get("heartbeat")
        age = max_age if max_age is not None else int(heartbeat) if isinstance(heartbeat, int) else None
        symbol = str(entry.meta.get("symbol") or name.removeprefix("Asset:"))
        specs.append(AssetSpec(symbol, entry.address, feed_name, feed.address, age or DEFAULT_MAX_AGE))
    return specs


def _call(to: str, data: str, tag: str) -> Call:
    return ("eth_call", [{"to": to, "data": data}, tag])


class ReserveReader:
    """Reads the proof of reserve of one deployment through ``pool``."""

    def __init__(
        self, *, manifest: Manifest, pool: RpcPool, reserve: str, token: str, max_age: int | None
    ) -> None:
        self.pool = pool
        self.reserve = manifest.address(reserve)
        self.token = manifest.address(token)
        self.assets = asset_specs(manifest, max_age=max_age)
        self.decimals: dict[str, int] = {}

    async def _decimals(self) -> None:
        if self.decimals:
            return
        addresses = [a.token for a in self.assets] + [a.feed for a in self.assets]
        answers = await self.pool.batch([_call(a, DECIMALS, "latest") for a in addresses])
        for address, raw in zip(addresses, answers, strict=True):
            self.decimals[address] = int(decode_word(raw, "uint8", what=f"{address}.decimals"))

    async def read(self, *, block: int, timestamp: int) -> Proof:
        """The proof at ``block`` (whose time is ``timestamp``)."""
        await self._decimals()
        tag = hex(block)
        holder = "0x" + self.reserve.lower().removeprefix("0x").rjust(64, "0")
        calls: list[Call] = [_call(self.token, TOTAL_SUPPLY, tag)]
        for a in self.assets:
            calls.append(_call(a.token, BALANCE_OF + holder[2:], tag))
            calls.append(_call(a.feed, LATEST, tag))
        answers = await self.pool.batch(calls, reverts_as_values=True)
        supply = _uint(answers[0], "PaymentToken.totalSupply")
        readings = []
        for i, a in enumerate(self.assets):
            balance = _uint(answers[1 + 2 * i], f"{a.symbol}.balanceOf")
            round_id, answer, updated = _round(answers[2 + 2 * i], a.feed_name)
            readings.append(
                AssetReading(
                    symbol=a.symbol,
                    token=a.token,
                    feed=a.feed_name,
                    balance=balance,
                    decimals=self.decimals[a.token],
                    answer=answer,
                    feed_decimals=self.decimals[a.feed],
                    round_id=round_id,
                    updated_at=updated,
                    max_age=a.max_age,
                )
            )
        return compute_proof(readings, supply=supply, block=block, timestamp=timestamp)


def _uint(raw: Any, what: str) -> int:
    if isinstance(raw, CallReverted) or not has_data(raw):
        return 0
    return int(decode_word(raw, "uint256", what=what))


def _round(raw: Any, what: str) -> tuple[int, int, int]:
    if isinstance(raw, CallReverted) or not has_data(raw):
        return 0, 0, 0
    round_id, answer, _started, updated, _answered = decode_word(
        raw, "(uint80,int256,uint256,uint256,uint80)", what=f"{what}.latestRoundData"
    )
    return int(round_id), int(answer), int(updated)
