"""Economic monitors' cost: the platform's catch-up over the same filled chain with and without the
reserve and economics block monitors (the proof of reserve with its allocation drift, and the PT market:
pool, TWAP, EWMA volatility, depth), each run on a fresh database, alternated and repeated; the figures are
the added share of the median catch-up time (target < 10%).

python -m bench economics [--economics-transactions 20000] [--economics-runs 4]
writes bench/results/economics.json.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fictra.clock import SystemClock
from fictra.devnet.anvil import AnvilNode
from fictra.devnet.chainutil import DevChain
from fictra.devnet.deploy import deploy_system
from fictra.devnet.fill import fill
from fictra.platform.assemble import assemble
from fictra.platform.config_set import ConfigSet, load_config_set
from fictra.platform.run import run as run_platform
from fictra.settings import load_settings

REPO = Path(__file__).resolve().parents[1]


def _without(config: ConfigSet) -> ConfigSet:
    """The same config with the reserve proof and the PT market monitors off."""
    reserve = config.reserve.model_copy(
        update={"proof": config.reserve.proof.model_copy(update={"enabled": False})}
    )
    pool = config.economics.pool.model_copy(update={"enabled": False})
    return dataclasses.replace(
        config, reserve=reserve, economics=config.economics.model_copy(update={"pool": pool})
    )


MINE = ("proof-of-reserve", "pt-market")


async def _catch_up(
    rpc_url: str, manifest: Any, config: ConfigSet, *, head: int, tmp: Path
) -> tuple[float, int, float]:
    """Catch-up seconds, block monitors, and the seconds spent inside the economic monitors."""
    settings = load_settings(data_dir=tmp / "data", config_dir=REPO / "config")
    platform = await assemble(
        settings=settings, clock=SystemClock(), manifest=manifest, config=config, urls=[rpc_url],
        batch_size=50, start_block=manifest.deployed_block,
    )  # fmt: skip
    inside = [0.0]
    for monitor in platform.block_monitors:
        if monitor.name in MINE:
            original = monitor.on_batch

            async def timed(*a: Any, _fn: Any = original, **kw: Any) -> Any:
                began = time.perf_counter()
                try:
                    return await _fn(*a, **kw)
                finally:
                    inside[0] += time.perf_counter() - began

            monitor.on_batch = timed  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(run_platform(platform, stop=stop))
    started = time.perf_counter()
    try:
        while (platform.follower.status().last_block or 0) < head:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        return time.perf_counter() - started, len(platform.block_monitors), inside[0]
    finally:
        stop.set()
        await task
        await platform.aclose()


async def run(args: argparse.Namespace | None = None) -> dict[str, Any]:
    transactions = int(getattr(args, "economics_transactions", None) or 20_000)
    runs = int(getattr(args, "economics_runs", None) or 4)
    with AnvilNode(gas_limit=100_000_000) as node, tempfile.TemporaryDirectory() as tmp:
        manifest = await deploy_system(node.rpc_url)
        await fill(rpc_url=node.rpc_url, transactions=transactions, manifest=manifest, batch_size=100)
        async with DevChain(node.rpc_url, manifest) as chain:
            head = await chain.head()
        config = load_config_set(REPO / "config", manifest=manifest)
        variants = {"with": config, "without": _without(config)}
        times: dict[str, list[float]] = {"with": [], "without": []}
        monitors: dict[str, int] = {}
        inside: list[float] = []
        for i in range(runs):
            for name in ("without", "with") if i % 2 == 0 else ("with", "without"):
                seconds, count, spent = await _catch_up(
                    node.rpc_url, manifest, variants[name], head=head, tmp=Path(tmp) / f"{name}{i}"
                )
                times[name].append(seconds)
                if name == "with":
                    inside.append(spent / seconds)
                monitors[name] = count
                print(f"  catch-up {name} economic monitors: {seconds:.2f}s ({count} block monitors)")
    median = {k: statistics.median(v) for k, v in times.items()}
    overhead = median["with"] / median["without"] - 1.0
    share = statistics.median(inside)
    print(
        f"  economic monitors add {overhead * 100:.1f}% to the median catch-up (target < 10%); wall time "
        f"inside them {share * 100:.1f}% (overlapping block fetching and the other monitors)"
    )
    return {
        "name": "economics",
        "blocks": head - manifest.deployed_block + 1,
        "transactions": transactions,
        "runs": runs,
        "catch_up_seconds_with": [round(t, 3) for t in times["with"]],
        "catch_up_seconds_without": [round(t, 3) for t in times["without"]],
        "block_monitors_with": monitors["with"],
        "block_monitors_without": monitors["without"],
        "overhead": round(overhead, 4),  # median with / median without - 1 (noisy on a shared machine)
        # wall seconds inside their on_batch / catch-up seconds: it overlaps the follower's prefetching and
        # the other monitors (awaiting the same RPC batches), so it is not their cost; "overhead" is
        "monitor_wall_share": round(share, 4),
        "overhead_target": 0.10,
    }
