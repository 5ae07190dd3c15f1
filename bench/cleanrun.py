"""Alert quality on a clean run: the devnet simulator's normal activity (oracle rounds, PT transfers and
swaps, FT issues and transfers, reserve deposits and withdrawals) for ``blocks`` blocks, watched by
``fictra up``'s pipeline with the shipped config. Nothing above P3 may fire; the figure is the number of
P3 alerts raised (and how many of them are still firing at the end: informational events resolve by
themselves), per monitor.

``python -m bench cleanrun [--cleanrun-blocks 2000] [--cleanrun-rate 200]`` writes
bench/results/cleanrun.json.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from fictra.alerting.queries import list_alerts
from fictra.clock import SystemClock
from fictra.devnet.anvil import AnvilNode
from fictra.devnet.chainutil import DevChain
from fictra.devnet.deploy import deploy_system
from fictra.devnet.simulate import SimConfig, Simulator
from fictra.platform.assemble import assemble
from fictra.platform.run import run as run_platform
from fictra.settings import load_settings

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = {"blocks": 2_000, "rate": 200}


async def clean_run(*, blocks: int, rate: int) -> dict[str, Any]:
    with AnvilNode() as node, tempfile.TemporaryDirectory() as tmp:
        manifest = await deploy_system(node.rpc_url)
        settings = load_settings(data_dir=Path(tmp) / "data", config_dir=REPO / "config")
        platform = await assemble(
            settings=settings, clock=SystemClock(), manifest=manifest, urls=[node.rpc_url]
        )
        stop, sim_stop = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(run_platform(platform, stop=stop))
        started = time.perf_counter()
        try:
            async with DevChain(node.rpc_url, manifest) as chain:
                first = await chain.head()
                sim = Simulator(chain, config=SimConfig(rate=rate, seed=7))
                sim_task = asyncio.create_task(sim.run(stop=sim_stop))
                while await chain.head() < first + blocks:
                    if sim_task.done():
                        sim_task.result()
                        raise RuntimeError("the simulator stopped early")
                    await asyncio.sleep(0.5)
                sim_stop.set()
                stats = await sim_task
                head = await chain.head()
            while (platform.follower.status().last_block or 0) < head:
                if task.done():
                    task.result()
                await asyncio.sleep(0.1)
            seconds = time.perf_counter() - started
            async with platform.sessions() as session:
                alerts = await list_alerts(session, limit=100_000)
        finally:
            stop.set()
            await task
            await platform.aclose()
    severe = [f"{a.severity} {a.monitor}: {a.summary}" for a in alerts if a.severity in ("P0", "P1", "P2")]
    p3 = [a for a in alerts if a.severity == "P3"]
    return {
        "blocks": head - first,
        "seconds": round(seconds, 1),
        "simulated_kinds": dict(Counter(stats.kinds)),
        "above_p3": severe,
        "above_p3_target": 0,
        "p3_alerts": len(p3),
        "p3_occurrences": sum(a.count for a in p3),
        "p3_still_firing": sum(1 for a in p3 if a.status == "firing"),
        "p3_by_monitor": dict(Counter(a.monitor for a in p3)),
    }


async def run(args: argparse.Namespace | None = None) -> dict[str, Any]:
    opts = {k: int(getattr(args, "cleanrun_" + k, None) or v) for k, v in DEFAULTS.items()}
    result = await clean_run(blocks=opts["blocks"], rate=opts["rate"])
    print(
        f"  {result['blocks']} blocks: {len(result['above_p3'])} alerts above P3, "
        f"{result['p3_alerts']} P3 alerts ({result['p3_still_firing']} still firing)"
    )
    return result
