"""The platform end to end on a devnet chain: catch-up through every default monitor, and block-to-alert
latency at the head.

* catch-up: the FICTRA system is deployed, the chain is filled with ``--platform-transactions`` signed
  transfers (a quarter of them PT transfers, so CEL rules and monitors see logs), then
  - raw: fetching the same blocks and their receipts with batched, pipelined JSON-RPC (best depth), and
  - platform: ``fictra up``'s pipeline (follower + node/tx/gas/contract/oracle/anomaly monitors + CEL
    rules + alert store on SQLite, checkpointed per batch) catching up over the same blocks,
  measured in the same run; the ratio platform/raw is the figure (target >= 0.5).
* latency: with the platform at the head, ``--platform-head-blocks`` blocks each carrying a large PT
  transfer (an alert per block); from each block's arrival to its batch committed (alerts stored) —
  p50 and p99 (target p99 < 250 ms).

python -m bench platform --platform-transactions 100000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench.chain import raw_fetch
from fictra.clock import SystemClock
from fictra.devnet.anvil import AnvilNode
from fictra.devnet.chainutil import DevChain
from fictra.devnet.deploy import deploy_system
from fictra.devnet.fill import fill
from fictra.platform.assemble import assemble
from fictra.platform.run import run as run_platform
from fictra.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = {
    "transactions": 100_000,
    "txs_per_block": 100,
    "head_blocks": 200,
    "batch_size": 50,
    "prefetch": 3,
}


async def head_with_simulator(*, seconds: int, rate: float, batch_size: int) -> dict[str, Any]:
    """Block-to-alert latency on 1 s blocks with ``fictra up``'s default activity running: the devnet's
    simulator as ``fictra up`` starts it (platform.devnet.simulator_task, its own thread)."""
    from fictra.devnet.state import DevnetPaths
    from fictra.platform.devnet import DevnetHandle, simulator_task

    with AnvilNode(gas_limit=100_000_000, block_time=1) as node, tempfile.TemporaryDirectory() as tmp:
        manifest = await deploy_system(node.rpc_url)
        async with DevChain(node.rpc_url, manifest) as chain:
            start = await chain.head()
        settings = load_settings(data_dir=Path(tmp) / "data", config_dir=REPO / "config")
        platform = await assemble(
            settings=settings, clock=SystemClock(), manifest=manifest, urls=[node.rpc_url],
            batch_size=batch_size, start_block=start,
        )  # fmt: skip
        handle = DevnetHandle(node.rpc_url, manifest, False, DevnetPaths(Path(tmp) / "devnet"))
        sent: list[int] = []

        def on_stats(stats: Any) -> None:
            sent.append(int(getattr(stats, "sent", 0)))

        stop = asyncio.Event()
        sim: asyncio.Future[None] = asyncio.ensure_future(
            simulator_task(handle, rate=rate, seed=7, on_stats=on_stats)(stop)
        )
        task = asyncio.create_task(run_platform(platform, stop=stop))
        try:
            await asyncio.sleep(3)
            platform.follower.head_latencies.clear()
            await asyncio.sleep(seconds)
            latencies = [x * 1000 for x in platform.follower.head_latencies]
        finally:
            stop.set()
            await sim
            await task
            await platform.aclose()
    return {
        "seconds": seconds,
        "simulator_rate": rate,
        "simulator_txs_sent": max(sent, default=0),
        "blocks": len(latencies),
        "p50_ms": round(statistics.median(latencies), 2) if latencies else None,
        "p99_ms": round(_pct(latencies, 0.99), 2) if latencies else None,
        "p99_target_ms": 100,
    }


def _time_monitors(platform: Any) -> dict[str, float]:
    """Wrap every block monitor's on_batch and the pool's state reads with a timer (bench only)."""
    spent: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - began

        return wrapper

    for monitor in platform.block_monitors:
        with contextlib.suppress(AttributeError):  # a slotted monitor is left untimed
            monitor.on_batch = timed(monitor.name, monitor.on_batch)
    platform.pool.read_state = timed("state_reads", platform.pool.read_state)
    return spent


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def run(args: argparse.Namespace | None = None) -> dict[str, Any]:
    opts = {k: int(getattr(args, "platform_" + k, None) or v) for k, v in DEFAULTS.items()}
    with AnvilNode(gas_limit=100_000_000) as node, tempfile.TemporaryDirectory() as tmp:
        manifest = await deploy_system(node.rpc_url)
        first = manifest.deployed_block
        started = time.perf_counter()
        filled = await fill(
            rpc_url=node.rpc_url,
            transactions=opts["transactions"],
            manifest=manifest,
            batch_size=opts["txs_per_block"],
        )
        fill_s = time.perf_counter() - started
        async with DevChain(node.rpc_url, manifest) as chain:
            head = await chain.head()
        print(f"  filled {filled.transactions} txs into blocks up to {head} in {fill_s:.1f}s")

        raw_runs = [
            (await raw_fetch(node.rpc_url, head=head, batch_size=opts["batch_size"], prefetch=depth))[0]
            for depth in range(1, opts["prefetch"] + 1)
        ]
        raw_s = min(raw_runs)
        settings = load_settings(data_dir=Path(tmp) / "data", config_dir=REPO / "config")
        platform = await assemble(  # the shipped config; endpoints overridden by this node
            settings=settings,
            clock=SystemClock(),
            manifest=manifest,
            urls=[node.rpc_url],
            batch_size=opts["batch_size"],
            start_block=first,
        )
        spent = _time_monitors(platform)  # where the catch-up goes: seconds per monitor, state reads
        stop = asyncio.Event()
        task = asyncio.create_task(run_platform(platform, stop=stop))
        started = time.perf_counter()
        try:
            while (platform.follower.status().last_block or 0) < head:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
            platform_s = time.perf_counter() - started
            blocks = head - first + 1
            txs = platform.follower.status().counters["txs"]
            print(f"  raw fetch {blocks / raw_s:.0f} blocks/s, platform {blocks / platform_s:.0f} blocks/s")
            catch_up_spent = {k: round(v, 3) for k, v in sorted(spent.items(), key=lambda kv: -kv[1])}
            print(f"  catch-up seconds by monitor (and state reads): {catch_up_spent}")

            # head latency: one large PT transfer per block, the platform following live
            platform.follower.head_latencies.clear()
            async with DevChain(node.rpc_url, manifest) as chain:
                traders = chain.role("traders")
                for i in range(opts["head_blocks"]):
                    sender, receiver = traders[i % 2], traders[1 - i % 2]
                    await chain.send(
                        sender, "PaymentToken", "transfer", receiver, 51_000 * 10**18
                    )  # above the 50k rule; fees stay payable
                    target = await chain.head()
                    while (platform.follower.status().last_block or 0) < target:  # noqa: ASYNC110
                        await asyncio.sleep(0.002)
            latencies = [s * 1000 for s in platform.follower.head_latencies]
        finally:
            stop.set()
            await task
            await platform.aclose()
    from bench._common import machine

    sim_seconds = int(getattr(args, "platform_sim_seconds", None) or 60)
    sim_rate = float(getattr(args, "platform_sim_rate", None) or 5.0)
    head_sim = await head_with_simulator(seconds=sim_seconds, rate=sim_rate, batch_size=opts["batch_size"])
    print(f"  head with simulator: p50 {head_sim['p50_ms']} ms, p99 {head_sim['p99_ms']} ms")
    return {
        "name": "platform",
        "machine_after": machine(),
        "head_with_simulator": head_sim,
        "head_with_simulator_p99_ms": head_sim["p99_ms"],
        "blocks": blocks,
        "transactions": txs,
        "raw_fetch_blocks_per_s": round(blocks / raw_s, 1),
        "raw_fetch_tx_per_s": round(txs / raw_s, 1),
        "platform_blocks_per_s": round(blocks / platform_s, 1),
        "platform_tx_per_s": round(txs / platform_s, 1),
        "catch_up_ratio": round(raw_s / platform_s, 3),
        "catch_up_ratio_target": 0.5,
        "catch_up_seconds": round(platform_s, 3),
        "catch_up_seconds_by_monitor": catch_up_spent,  # "state_reads": RpcPool.read_state (inside monitors)
        "monitors": len(platform.block_monitors),
        "head_blocks": len(latencies),
        "block_to_alert_p50_ms": round(statistics.median(latencies), 2),
        "block_to_alert_p99_ms": round(_pct(latencies, 0.99), 2),
        "block_to_alert_p99_target_ms": 250,
    }
