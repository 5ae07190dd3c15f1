"""What the procedures' checks read from the chain, as one small protocol.

:class:`PoolChainView` reads through the platform's RPC pool, addressing contracts by the deployment
manifest: the endpoints' health (the pool's own view), the head block's number and timestamp, ``paused()``
of every contract whose ABI has it, and ``latestRoundData()`` of every ``Feed:*`` contract. A test may pass
any object with the same methods (:class:`ChainView`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from fictra.chain import artifacts
from fictra.chain.manifest import Manifest
from fictra.chain.pool import EndpointHealth, RpcPool
from fictra.chain.rpc import Call
from fictra.errors import RpcError
from fictra.monitors.common import FEED_PREFIX, decode_word, has_data, selector
from fictra.procedures.roles import RoleHolders, role_holders

__all__ = ["ChainView", "FeedReading", "Head", "PoolChainView"]

PAUSED = selector("paused()")
LATEST = selector("latestRoundData()")


@dataclass(frozen=True, slots=True)
class Head:
    number: int
    timestamp: int  # seconds since the epoch (the block's own time)


@dataclass(frozen=True, slots=True)
class FeedReading:
    name: str  # manifest name, "Feed:BRENT"
    updated_at: int | None  # latestRoundData().updatedAt; None when unreadable
    heartbeat: float  # seconds (manifest meta, 3600 when absent)


class ChainView(Protocol):
    def endpoints(self) -> list[EndpointHealth]: ...

    async def head(self) -> Head: ...

    async def paused(self) -> dict[str, bool]: ...

    async def feeds(self) -> list[FeedReading]: ...


def _heartbeat(meta: dict[str, object]) -> float:
    value = meta.get("heartbeat", 3600)
    return float(value) if isinstance(value, int | float | str) else 3600.0


class PoolChainView:
    """:class:`ChainView` over the platform's pool and manifest."""

    def __init__(self, *, pool: RpcPool, manifest: Manifest) -> None:
        self.pool = pool
        self.manifest = manifest

    def endpoints(self) -> list[EndpointHealth]:
        return self.pool.health()

    async def role_holders(self) -> RoleHolders:
        return await role_holders(pool=self.pool, manifest=self.manifest)

    async def head(self) -> Head:
        block: dict[str, Any] = await self.pool.call("eth_getBlockByNumber", ["latest", False])
        return Head(int(block["number"], 16), int(block["timestamp"], 16))

    def _pausable(self) -> list[str]:
        names = []
        for name, entry in self.manifest.contracts.items():
            try:
                fns = {e.get("name") for e in artifacts.load(entry.artifact).entries("function")}
            except (OSError, ValueError, KeyError):
                continue
            if "paused" in fns:
                names.append(name)
        return sorted(names)

    async def paused(self) -> dict[str, bool]:
        names = self._pausable()
        calls: list[Call] = [
            ("eth_call", [{"to": self.manifest.contracts[n].address, "data": PAUSED}, "latest"])
            for n in names
        ]
        answers = await self.pool.batch(calls, reverts_as_values=True) if calls else []
        out: dict[str, bool] = {}
        for name, raw in zip(names, answers, strict=True):
            if has_data(raw):
                out[name] = bool(decode_word(raw, "bool", what=f"{name}.paused"))
        return out

    async def feeds(self) -> list[FeedReading]:
        names = sorted(n for n in self.manifest.contracts if n.startswith(FEED_PREFIX))
        calls: list[Call] = [
            ("eth_call", [{"to": self.manifest.contracts[n].address, "data": LATEST}, "latest"])
            for n in names
        ]
        answers = await self.pool.batch(calls, reverts_as_values=True) if calls else []
        out = []
        for name, raw in zip(names, answers, strict=True):
            updated: int | None = None
            if has_data(raw):
                try:
                    words = decode_word(raw, "(uint80,int256,uint256,uint256,uint80)", what=f"{name}.latest")
                    updated = int(words[3])
                except RpcError:
                    updated = None
            out.append(FeedReading(name, updated, _heartbeat(self.manifest.contracts[name].meta)))
        return out
