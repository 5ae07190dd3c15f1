"""End-to-end harness: a real Anvil with the FICTRA system deployed, the platform running in-process
against it with the default config-as-code, and the devnet scenarios to inject faults.

Blocks are produced on demand (Anvil automines transactions; `mine()` adds empty blocks), so "the alert
fires within N blocks" is measured in blocks, never in wall-clock waits.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from fictra.alerting.queries import list_alerts
from fictra.alerting.schemas import AlertView
from fictra.chain.manifest import Manifest
from fictra.clock import SystemClock
from fictra.devnet.anvil import AnvilNode
from fictra.devnet.chainutil import DevChain
from fictra.devnet.scenarios import ScenarioContext, ScenarioOptions, ScenarioStore, run_scenario
from fictra.platform.assemble import Platform, assemble
from fictra.platform.run import run
from fictra.settings import load_settings

REPO = Path(__file__).resolve().parents[2]


def devnet_config(dest: Path, rpc_urls: list[str]) -> Path:
    """Copy the shipped config/ and point network.yaml at the given endpoints."""
    shutil.copytree(REPO / "config", dest)
    network = yaml.safe_load((dest / "network.yaml").read_text())
    network["endpoints"] = [
        {"name": f"node{i}", "url": url, "timeout": "2s"} for i, url in enumerate(rpc_urls)
    ]
    network.pop("manifest", None)
    (dest / "network.yaml").write_text(yaml.safe_dump(network))
    nodes = yaml.safe_load((dest / "monitors" / "nodes.yaml").read_text())
    for monitor in nodes["monitors"]:
        monitor["interval"] = "1s"  # tests wait on polls; the shipped 15s is for real use
    (dest / "monitors" / "nodes.yaml").write_text(yaml.safe_dump(nodes))
    return dest


@dataclass
class Running:
    node: AnvilNode
    manifest: Manifest
    platform: Platform
    chain: DevChain
    scenarios: ScenarioContext
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def head(self) -> int:
        return await self.chain.head()

    async def processed(self) -> int:
        status = self.platform.follower.status()
        return status.last_block if status.last_block is not None else -1

    async def mine(self, blocks: int = 1) -> None:
        for _ in range(blocks):
            await self.chain.rpc.call("evm_mine", [])

    async def settle(self, seconds: float = 30.0) -> None:
        """Wait until the follower has processed the current head (and its monitors ran)."""
        target = await self.head()
        deadline = asyncio.get_running_loop().time() + seconds
        while await self.processed() < target:
            if self.task.done():
                self.task.result()
                raise AssertionError("the platform stopped")
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"follower stuck at {await self.processed()} < head {target}")
            await asyncio.sleep(0.02)
        # let polled monitors take a turn too
        await asyncio.sleep(0.05)

    async def alerts(self, **filters: object) -> list[AlertView]:
        async with self.platform.sessions() as session:
            return await list_alerts(session, limit=1000, **filters)  # type: ignore[arg-type]

    async def wait_for_alert(
        self, match: Callable[[AlertView], bool], *, within_blocks: int, status: str = "firing"
    ) -> AlertView:
        """Mine up to ``within_blocks`` empty blocks, returning the first alert that matches."""
        for _ in range(within_blocks + 1):
            await self.settle()
            found = [a for a in await self.alerts(status=status) if match(a)]
            if found:
                return found[0]
            await self.mine()
        everything = [(a.monitor, a.severity, a.status, a.labels) for a in await self.alerts()]
        raise AssertionError(
            f"no matching {status} alert within {within_blocks} blocks; alerts: {everything}"
        )

    async def poll_for_alert(
        self, match: Callable[[AlertView], bool], *, seconds: float, status: str = "firing"
    ) -> AlertView:
        """For conditions seen by polled monitors (on their interval) rather than by blocks."""
        deadline = asyncio.get_running_loop().time() + seconds
        while asyncio.get_running_loop().time() < deadline:
            found = [a for a in await self.alerts(status=status) if match(a)]
            if found:
                return found[0]
            await asyncio.sleep(0.2)
        everything = [(a.monitor, a.severity, a.status, a.labels) for a in await self.alerts()]
        raise AssertionError(f"no matching {status} alert within {seconds}s; alerts: {everything}")

    async def scenario(self, name: str, *, undo: bool = False) -> str:
        return await run_scenario(self.scenarios, name, undo=undo)

    async def close(self) -> None:
        self.stop.set()
        try:
            await asyncio.wait_for(self.task, timeout=30)
        finally:
            await self.platform.aclose()
            await self.chain.aclose()
            self.node.stop()


async def _block_number(url: str) -> int:
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"})
        return int(answer.json()["result"], 16)


async def start(
    tmp: Path,
    *,
    node: AnvilNode | None = None,
    urls: list[str] | None = None,
    response: bool = False,
    link_base: str = "http://127.0.0.1:8000",
    incidents: bool = False,
    emergency: bool = False,
    notify: bool = False,
    procedures: bool = False,
    configure: Callable[[Path], None] | None = None,
    follow_from_deployment: bool = False,
) -> Running:
    """Deploy on ``node`` (a fresh Anvil by default) and run the platform against ``urls`` (default:
    the node itself) with the shipped config. ``response=True`` also runs alert response as ``fictra up``
    does (the shipped escalation/on-call/routing config: SLA clocks, escalation steps, the tick every
    0.5 s), so a P0 gets its response record and its level-1 notification.

    ``incidents=True`` runs incident management as ``fictra up`` does (auto-declare, evidence jobs,
    cadence; tick every 0.2 s); ``emergency=True`` the emergency action runner and the automatic-response
    policies, signing with V3 keystores written under the data dir like ``fictra devnet up`` does;
    ``notify=True`` the outbox worker; ``procedures=True`` the routine procedures (their jobs and
    ``platform.procedures``, the context to run a procedure's steps with). ``configure(config_dir)`` may
    edit the copied config first."""
    from datetime import timedelta

    from fictra.devnet.deploy import deploy_system
    from fictra.devnet.runtime import write_keystores
    from fictra.devnet.state import DevnetPaths
    from fictra.platform.assemble import Parts, Timings

    node = node or AnvilNode().start()
    try:
        manifest = await deploy_system(node.rpc_url)
        # follow_from_deployment: the follower's first block is the one after the deployment, so blocks
        # that ``configure`` mines are a catch-up (by default it starts after the head, as in production)
        first = await _block_number(node.rpc_url) + 1 if follow_from_deployment else None
        config_dir = devnet_config(tmp / "config", urls or [node.rpc_url])
        if configure is not None:
            configure(config_dir)
        settings = load_settings(data_dir=tmp / "data", config_dir=config_dir)
        if emergency:
            write_keystores(DevnetPaths(settings.devnet_dir))
        platform = await assemble(
            settings=settings,
            clock=SystemClock(),
            manifest=manifest,
            link_base=link_base,
            start_block=first,
            parts=Parts(
                response=response,
                incidents=incidents,
                emergency=emergency,
                notify=notify,
                audit=False,
                procedures=procedures,
            ),
            timings=Timings(response_tick=timedelta(seconds=0.5), incidents_tick=timedelta(seconds=0.2)),
        )
        extra: list[Any] = []
    except BaseException:
        node.stop()
        raise
    stop = asyncio.Event()
    task = asyncio.create_task(run(platform, stop=stop, extra=extra))
    chain = DevChain(node.rpc_url, manifest)
    ctx = ScenarioContext(
        chain=chain,
        store=ScenarioStore(tmp / "data" / "scenarios.json"),
        anvil_pid=node.process.pid if node.process else None,
        options=ScenarioOptions(),
    )
    running = Running(node, manifest, platform, chain, ctx, stop, task)
    await running.mine()  # the follower starts after the deployment: give it its first block
    await running.settle()
    return running
