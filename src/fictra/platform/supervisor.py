"""Named, restartable platform components — what the "component restart" recovery action acts on.

Each long-running part of ``fictra up`` (the follower, each polled monitor, the response tick, the
notification worker, ...) runs as a *component*: a coroutine factory taking its own stop event. A restart
sets that event, waits for the component to wind down (cancelling it after ``grace`` seconds) and starts
a fresh run from the factory — the follower, for instance, resumes from its committed checkpoint, so a
restart loses nothing. A component that ends on its own (an error, or the platform stopping) ends the
platform as before: restarts are deliberate, never a way to hide a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from fictra.clock import Clock
from fictra.errors import UsageError

Task = Callable[[asyncio.Event], Awaitable[None]]


@dataclass
class ComponentState:
    name: str
    starts: int = 0
    restarts: int = 0
    last_restart_at: datetime | None = None
    running: bool = False
    _restart: asyncio.Event = field(default_factory=asyncio.Event, repr=False)


class Supervisor:
    """Runs components and restarts them on request (:meth:`restart`)."""

    def __init__(self, *, clock: Clock, grace: float = 10.0) -> None:
        self.clock = clock
        self.grace = grace
        self._components: dict[str, ComponentState] = {}

    @property
    def names(self) -> list[str]:
        return list(self._components)

    def state(self, name: str) -> ComponentState:
        try:
            return self._components[name]
        except KeyError:
            known = ", ".join(sorted(self._components)) or "none"
            raise UsageError(f"No platform component named '{name}'; the components are: {known}.") from None

    def component(self, name: str, factory: Task) -> Task:
        """Register ``factory`` as ``name`` and return the task that runs (and re-runs) it."""
        if name in self._components:
            raise UsageError(f"Platform component '{name}' is registered twice; component names are unique.")
        state = ComponentState(name)
        self._components[name] = state

        async def supervised(stop: asyncio.Event) -> None:
            while True:
                inner_stop = asyncio.Event()
                state.starts += 1
                state.running = True
                inner = asyncio.ensure_future(factory(inner_stop))
                stopping = asyncio.ensure_future(stop.wait())
                restarting = asyncio.ensure_future(state._restart.wait())
                try:
                    await asyncio.wait({inner, stopping, restarting}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stopping.cancel()
                    restarting.cancel()
                if inner.done():  # ended by itself: the platform ends with it (its error is raised)
                    state.running = False
                    inner.result()
                    return
                inner_stop.set()
                try:
                    await asyncio.wait_for(asyncio.shield(inner), timeout=self.grace)
                except TimeoutError:
                    inner.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await inner
                state.running = False
                if stop.is_set():
                    return
                state._restart.clear()
                state.restarts += 1
                state.last_restart_at = self.clock.now()

        return supervised

    def restart(self, name: str) -> ComponentState:
        """Ask component ``name`` to restart (it stops and starts again on its task)."""
        state = self.state(name)
        state._restart.set()
        return state
