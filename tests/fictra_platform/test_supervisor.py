"""Restartable components: a restart stops the component and runs its factory again; a component that
ends on its own still ends the platform (a restart is deliberate, never a way to hide a crash)."""

from __future__ import annotations

import asyncio

import pytest

from fictra.clock import FakeClock
from fictra.errors import UsageError
from fictra.platform.supervisor import Supervisor


class Probe:
    """A component that counts its runs and waits for its stop event."""

    def __init__(self) -> None:
        self.started = 0
        self.stopped = 0
        self.running = asyncio.Event()

    async def __call__(self, stop: asyncio.Event) -> None:
        self.started += 1
        self.running.set()
        await stop.wait()
        self.stopped += 1
        self.running.clear()


async def _until(predicate: object, what: str) -> None:
    for _ in range(2000):
        if callable(predicate) and predicate():
            return
        await asyncio.sleep(0.001)
    raise AssertionError(f"never true: {what}")


async def test_restart_runs_the_factory_again_and_counts_it(clock: FakeClock) -> None:
    sup = Supervisor(clock=clock)
    probe = Probe()
    stop = asyncio.Event()
    task = asyncio.ensure_future(sup.component("worker", probe)(stop))
    await _until(lambda: probe.started == 1, "first start")

    state = sup.restart("worker")
    await _until(lambda: probe.started == 2, "second start")
    assert probe.stopped == 1  # the first run was asked to stop, not killed
    assert state.restarts == 1 and state.starts == 2 and state.running
    assert state.last_restart_at == clock.now()

    stop.set()
    await asyncio.wait_for(task, 5)
    assert probe.stopped == 2 and not state.running and state.restarts == 1


async def test_a_component_that_ignores_its_stop_is_cancelled_after_the_grace(clock: FakeClock) -> None:
    sup = Supervisor(clock=clock, grace=0.01)
    runs: list[int] = []

    async def stubborn(stop: asyncio.Event) -> None:
        runs.append(1)
        await asyncio.Event().wait()  # never looks at stop

    stop = asyncio.Event()
    task = asyncio.ensure_future(sup.component("stubborn", stubborn)(stop))
    await _until(lambda: len(runs) == 1, "first run")
    sup.restart("stubborn")
    await _until(lambda: len(runs) == 2, "second run")
    stop.set()
    await asyncio.wait_for(task, 5)
    assert sup.state("stubborn").restarts == 1


async def test_a_crash_is_raised_not_restarted(clock: FakeClock) -> None:
    sup = Supervisor(clock=clock)

    async def crashes(stop: asyncio.Event) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await sup.component("crashes", crashes)(asyncio.Event())
    assert sup.state("crashes").restarts == 0


def test_unknown_and_duplicate_names_are_usage_errors(clock: FakeClock) -> None:
    sup = Supervisor(clock=clock)
    sup.component("follower", Probe())
    with pytest.raises(UsageError, match="No platform component named 'nope'; the components are: follower"):
        sup.restart("nope")
    with pytest.raises(UsageError, match="registered twice"):
        sup.component("follower", Probe())
