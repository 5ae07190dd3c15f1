"""When the configured network is the local devnet, ``fictra up`` starts it and its activity."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fictra.chain.manifest import Manifest
from fictra.devnet import runtime
from fictra.devnet.state import DevnetPaths, load_state
from fictra.errors import DevnetError, FictraError
from fictra.settings import Settings

log = logging.getLogger(__name__)
STOP_WAIT_S = 6.0  # the simulator's own stop grace (3 s) plus its last reads


@dataclass(frozen=True)
class DevnetHandle:
    rpc_url: str
    manifest: Manifest
    started_here: bool
    paths: DevnetPaths


def _port_of(url: str) -> int:
    parts = urlsplit(url)
    if parts.hostname not in {"127.0.0.1", "localhost"} or parts.port is None:
        raise DevnetError(
            f"config/network.yaml's first endpoint is '{parts.scheme}://{parts.hostname}', not a local "
            "port; the devnet can only be started on 127.0.0.1:<port>. Use --no-devnet for a remote chain."
        )
    return parts.port


async def ensure_devnet(
    *, settings: Settings, endpoint_url: str, progress: Callable[[str], None] | None = None
) -> DevnetHandle:
    """Reuse the running devnet if it is the configured endpoint; otherwise start one on its port."""
    paths = DevnetPaths(settings.devnet_dir)
    state, note = load_state(paths)
    if note and progress:
        progress(note)
    wanted_port = _port_of(endpoint_url)
    if state is not None:
        if state.port != wanted_port:
            raise DevnetError(
                f"A devnet is running at {state.rpc_url}, but config/network.yaml expects port "
                f"{wanted_port}. Stop it with `fictra devnet down`, or point the endpoint at it."
            )
        runtime.write_keystores(paths)  # a devnet started before keystores existed gets them now
        return DevnetHandle(state.rpc_url, Manifest.load(paths.manifest), False, paths)
    result = await runtime.up(paths=paths, port=wanted_port, block_time=1, progress=progress)
    if result.manifest is None:  # pragma: no cover - up() deploys by default
        raise DevnetError("The devnet started without a deployment.")
    return DevnetHandle(result.state.rpc_url, result.manifest, True, paths)


def simulator_task(
    handle: DevnetHandle, *, rate: float, seed: int, on_stats: Callable[[object], None] | None = None
) -> Callable[[asyncio.Event], Awaitable[None]]:
    """A platform task that runs the activity simulator until the platform stops.

    The simulator runs in its own thread with its own event loop: signing and encoding its
    transactions never hold the follower's loop (head latency with ``fictra up``'s default activity,
    issue 13). ``on_stats`` is still called on the platform's loop.
    """

    async def simulate(stop: asyncio.Event, report: Callable[[object], None] | None) -> None:
        from fictra.devnet.chainutil import DevChain
        from fictra.devnet.scenarios import ScenarioStore
        from fictra.devnet.simulate import SimConfig, Simulator

        async with DevChain(handle.rpc_url, handle.manifest) as chain:
            sim = Simulator(
                chain, config=SimConfig(rate=rate, seed=seed), store=ScenarioStore(handle.paths.scenarios)
            )
            try:
                await sim.run(stop=stop, on_tick=report)
            except FictraError as exc:  # the chain went away (node-down scenario...): keep monitoring
                log.warning("simulator stopped: %s", exc.user_message)
                await stop.wait()

    async def run(stop: asyncio.Event) -> None:
        platform_loop = asyncio.get_running_loop()
        started: concurrent.futures.Future[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = (
            concurrent.futures.Future()
        )

        def report(stats: object) -> None:
            if on_stats is not None:
                platform_loop.call_soon_threadsafe(on_stats, stats)

        async def thread_main() -> None:
            thread_stop = asyncio.Event()
            started.set_result((asyncio.get_running_loop(), thread_stop))
            await simulate(thread_stop, report if on_stats is not None else None)

        def thread_body() -> None:
            try:
                asyncio.run(thread_main())
            except BaseException as exc:  # handed to the platform's task below
                if not started.done():
                    started.set_exception(exc)
                raise

        # a daemon thread, not the loop's default executor: a simulator that does not end in time
        # never holds up the exit (asyncio.run waits for every executor thread)
        ended: concurrent.futures.Future[None] = concurrent.futures.Future()

        def thread_target() -> None:
            try:
                thread_body()
            except BaseException as exc:  # handed to the platform's task
                ended.set_exception(exc)
            else:
                ended.set_result(None)

        threading.Thread(target=thread_target, name="fictra-simulator", daemon=True).start()
        done: asyncio.Future[Any] = asyncio.wrap_future(ended)
        waiter = asyncio.ensure_future(asyncio.wrap_future(started))
        await asyncio.wait({done, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if not waiter.done():  # the thread ended before its loop started: raise what it raised
            waiter.cancel()
            await done
            return
        sim_loop, thread_stop = waiter.result()
        stop_wait: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({done, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop_wait.cancel()
            if not done.done():
                sim_loop.call_soon_threadsafe(thread_stop.set)
            try:
                await asyncio.wait_for(asyncio.shield(done), timeout=STOP_WAIT_S)
            except TimeoutError:
                log.warning("simulator did not stop within %.0fs; left behind (daemon thread)", STOP_WAIT_S)

    return run
