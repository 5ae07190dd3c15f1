"""A runner on a real devnet: keystores written like ``fictra devnet up`` does, the emergency config
pointing at them, a DevChain for the test's own moves, and helpers to read the chain back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import FakeClock
from fictra.devnet.accounts import one
from fictra.devnet.chainutil import DevChain
from fictra.emergency import service
from fictra.emergency.config import EmergencyConfig, SignerConfig
from fictra.emergency.controls import MemoryControls
from fictra.emergency.keystore import write_devnet_keystores
from fictra.emergency.runner import ActionRunner
from fictra.emergency.types import ActionView


def emergency_config(keys: Path, config_dir: Path, *, confirmations: int = 0) -> EmergencyConfig:
    return EmergencyConfig(
        confirmations=confirmations,
        signers={
            "guardian": SignerConfig(
                keystore=str(keys / "guardian.json"),
                passphrase=f"file:{keys / 'guardian.pass'}",
                role="guardian",
            ),
            "governance": SignerConfig(
                keystore=str(keys / "proposer.json"),
                passphrase=f"file:{keys / 'proposer.pass'}",
                role="proposer",
            ),
        },
        config_dir=config_dir,
    )


@dataclass
class Rig:
    dev: DevChain
    manifest: Manifest
    pool: RpcPool
    sessions: async_sessionmaker[AsyncSession]
    clock: FakeClock
    runner: ActionRunner
    controls: MemoryControls
    keys: Path
    registry: CollectorRegistry

    async def paused(self) -> dict[str, bool]:
        targets = await self.dev.call("EmergencyController", "pausables")
        out = {}
        for address in targets:
            name = next(n for n, e in self.manifest.contracts.items() if e.address.lower() == address.lower())
            out[name] = bool(await self.dev.contract(name).functions.paused().call())
        return out

    async def halted(self) -> bool:
        return bool(await self.dev.call("EmergencyController", "tradingHalted"))

    async def view(self, action_id: int) -> ActionView:
        async with self.sessions() as s:
            return await service.get_action(s, action_id, clock=self.clock)

    async def propose(self, kind: str, actor: Any, **kw: Any) -> ActionView:
        async with self.sessions.begin() as s:
            return await service.propose(
                s, kind=kind, params=kw.pop("params", {}), actor=actor, clock=self.clock, **kw
            )

    async def approve(self, view: ActionView, actor: Any) -> ActionView:
        async with self.sessions.begin() as s:
            return await service.approve(
                s, action_id=view.id, actor=actor, clock=self.clock, params_hash=view.params_hash
            )

    async def mining(self, task: asyncio.Task[Any], *, blocks: int = 20) -> Any:
        """Mine one block at a time until ``task`` ends (the runner's block waits follow the head)."""
        for _ in range(blocks):
            done, _ = await asyncio.wait({task}, timeout=0.5)
            if done:
                break
            await self.dev.mine()
        return await asyncio.wait_for(task, timeout=10)


@asynccontextmanager
async def make_rig(
    *,
    url: str,
    manifest: Manifest,
    pool: RpcPool,
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    tmp: Path,
    confirmations: int = 0,
) -> AsyncIterator[Rig]:
    keys = tmp / "devnet" / "keys"
    write_devnet_keystores(
        keys, {"guardian": one("guardian").private_key, "proposer": one("proposer").private_key}
    )
    controls = MemoryControls(
        endpoints=["primary", "backup"],
        contracts={n: e.address for n, e in manifest.contracts.items()},
        components=["follower", "response-tick"],
    )
    registry = CollectorRegistry()
    runner = ActionRunner(
        sessions=sessions,
        pool=pool,
        manifest=manifest,
        clock=clock,
        config=emergency_config(keys, tmp, confirmations=confirmations),
        data_dir=tmp,
        controls=controls,
        registry=registry,
        poll_interval=0.05,
    )
    async with DevChain(url, manifest) as dev:
        yield Rig(dev, manifest, pool, sessions, clock, runner, controls, keys, registry)
