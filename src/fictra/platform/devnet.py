"""When the configured network is the local devnet, ``fictra up`` starts it and its activity."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from fictra.chain.manifest import Manifest
from fictra.devnet import runtime
from fictra.devnet.state import DevnetPaths, load_state
from fictra.errors import DevnetError, FictraError
from fictra.settings import Settings

log = logging.getLogger(__name__)


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
    """A platform task that runs the activity simulator until the platform stops."""

    async def run(stop: asyncio.Event) -> None:
        from fictra.devnet.chainutil import DevChain
        from fictra.devnet.scenarios import ScenarioStore
        from fictra.devnet.simulate import SimConfig, Simulator

        async with DevChain(handle.rpc_url, handle.manifest) as chain:
            sim = Simulator(
                chain, config=SimConfig(rate=rate, seed=seed), store=ScenarioStore(handle.paths.scenarios)
            )
            try:
                await sim.run(stop=stop, on_tick=on_stats)
            except FictraError as exc:  # the chain went away (node-down scenario...): keep monitoring
                log.warning("simulator stopped: %s", exc.user_message)
                await stop.wait()

    return run
