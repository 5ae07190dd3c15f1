"""The simulator keeps sending after a reorg drops its transactions (anvil_reorg), and reports a stall."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from fictra.clock import FakeClock, SystemClock
from fictra.devnet import simulate
from fictra.devnet.chainutil import DevChain
from fictra.devnet.simulate import SimConfig, Simulator


async def _until(holds: Callable[[], Awaitable[bool]], seconds: float, step: float = 0.05) -> None:
    for _ in range(int(seconds / step)):
        if await holds():
            return
        await asyncio.sleep(step)
    raise AssertionError(f"{holds.__name__} not reached within {seconds}s")


async def test_the_simulator_keeps_sending_after_a_reorg_drops_its_transactions(chain: DevChain) -> None:
    await chain.rpc.call("evm_setAutomine", [False])  # transactions wait in the pool until mined
    sim = Simulator(chain, config=SimConfig(rate=40, seed=2, kinds=("pt_transfer",)), clock=SystemClock())
    stop = asyncio.Event()
    task = asyncio.create_task(sim.run(stop=stop))
    try:

        async def pending() -> bool:
            return int((await chain.rpc.call("txpool_status")).get("pending", "0x0"), 16) >= 4

        await _until(pending, 10)
        # the pending transactions are mined into a block that a reorg removes right away (depth 1:
        # only that block; the receipt waits are polling meanwhile)
        await chain.rpc.call("anvil_mine", ["0x1"])
        await chain.rpc.call("anvil_reorg", [1, []])

        async def dropped_some() -> bool:
            return sim.stats.dropped > 0

        await _until(dropped_some, 10)
        dropped, sent = sim.stats.dropped, sim.stats.sent
        await chain.rpc.call("evm_setAutomine", [True])

        async def sent_more() -> bool:
            return sim.stats.sent >= sent + 5

        await _until(sent_more, 15)
    finally:
        stop.set()
        stats = await asyncio.wait_for(task, timeout=10)
    assert dropped >= 1 and "dropped (a reorg?)" in " ".join(stats.errors)
    assert stats.sent >= sent + 5, "sending went on after the reorg"
    assert stats.stalled_for == 0.0


async def test_a_simulator_whose_steps_never_end_reports_a_stall(
    chain: DevChain, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    hang = asyncio.Event()

    async def never_ends(world: object, rng: object) -> int:
        await hang.wait()
        return 1

    monkeypatch.setitem(simulate.STEPS, "pt_transfer", never_ends)
    sim = Simulator(chain, config=SimConfig(rate=1, seed=1, kinds=("pt_transfer",)), clock=clock)
    stop = asyncio.Event()
    lines: list[str] = []
    task = asyncio.create_task(sim.run(stop=stop, on_tick=lambda s: lines.append(s.summary())))
    with caplog.at_level(logging.WARNING, logger="fictra.devnet.simulate"):
        async with asyncio.timeout(10):
            while not sim.stats.stalled_for:
                await asyncio.sleep(0.02)
                clock.advance(1.0)
            stalled = sim.stats.stalled_for
            hang.set()

            async def resumed() -> bool:
                return not sim.stats.stalled_for

            await _until(resumed, 10)
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert stalled >= simulate.STALL_S
    assert any("STALLED for" in line for line in lines)
    assert "simulator stalled" in caplog.text and "simulator resumed" in caplog.text
