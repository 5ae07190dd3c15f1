"""The monitor test rig: drive the deployed system (DevChain), then fetch the blocks it produced with the
follower's fetch helper and hand them to a monitor as one BlockBatch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Finding
from fictra.chain.fetch import fetch_blocks
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.types import BlockBatch
from fictra.devnet.accounts import one, role
from fictra.devnet.chainutil import DevChain
from fictra.monitors.base import Monitor, MonitorOutput

E18 = 10**18


@dataclass
class Rig:
    dev: DevChain
    pool: RpcPool
    session: AsyncSession
    manifest: Manifest
    url: str
    seen: int = 0
    outputs: list[MonitorOutput] = field(default_factory=list)

    async def mark(self) -> int:
        """Forget the blocks so far: the next :meth:`run` starts after the current head."""
        self.seen = await self.dev.head()
        return self.seen

    async def batch(self) -> BlockBatch:
        head = await self.dev.head()
        blocks = await fetch_blocks(self.pool, first=self.seen + 1, last=head)
        self.seen = head
        return BlockBatch(network="devnet", blocks=tuple(blocks), head=head, at_head=True)

    async def run(self, *monitors: Monitor) -> MonitorOutput:
        """Every block since the last mark/run, as one batch, through ``monitors``."""
        batch = await self.batch()
        out = MonitorOutput()
        for monitor in monitors:
            out.extend(await monitor.on_batch(batch, self.session))
        return out

    async def rpc(self, method: str, params: list[Any]) -> Any:
        return await self.dev.rpc.call(method, params)

    async def send(self, sender: str, name: str, fn: str, *args: Any, **kwargs: Any) -> Any:
        """``DevChain.send`` typed loosely (the receipt, or the hash with ``wait=False``)."""
        return await self.dev.send(sender, name, fn, *args, **kwargs)

    async def as_timelock(self, name: str, fn: str, *args: Any) -> Any:
        timelock = self.manifest.address("Timelock")
        await self.dev.impersonate(timelock)
        try:
            return await self.dev.send(timelock, name, fn, *args)
        finally:
            await self.dev.stop_impersonating(timelock)


def who(name: str) -> str:
    return one(name).address


def nodes() -> list[str]:
    return [a.address for a in role("oracle_nodes")]


def traders() -> list[str]:
    return [a.address for a in role("traders")]


def by_condition(out: MonitorOutput, condition: str) -> list[Finding]:
    return [f for f in out.findings if f.labels.get("condition") == condition]


def cleared(out: MonitorOutput, condition: str) -> list[dict[str, str]]:
    return [c.labels for c in out.clears if c.labels.get("condition") == condition]
