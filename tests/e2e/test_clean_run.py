"""A clean simulated run of at least 2,000 blocks of normal activity raises nothing above P3."""

from __future__ import annotations

import asyncio

import pytest

from e2e.harness import start
from fictra.devnet.simulate import SimConfig, Simulator

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BLOCKS = 2_000


async def test_two_thousand_blocks_of_normal_activity_raise_no_p0_or_p1(tmp_path) -> None:
    running = await start(tmp_path)
    try:
        first = await running.head()
        stop = asyncio.Event()
        sim = Simulator(running.chain, config=SimConfig(rate=200, seed=7), store=running.scenarios.store)
        task = asyncio.create_task(sim.run(stop=stop))
        while await running.head() < first + BLOCKS:
            if task.done():
                task.result()
                raise AssertionError("the simulator stopped early")
            await asyncio.sleep(0.5)
        stop.set()
        stats = await task
        await running.settle(seconds=120)

        assert await running.processed() >= first + BLOCKS
        kinds = set(stats.kinds)
        assert {"oracle", "pt_transfer", "swap", "reserve", "ft_issue", "ft_transfer"} <= kinds, stats.kinds
        severe = [
            (a.severity, a.monitor, a.labels, a.summary)
            for a in await running.alerts()
            if a.severity in ("P0", "P1", "P2")
        ]
        assert severe == []
    finally:
        await running.close()
