"""Start, stop, inspect and redeploy the local devnet (behind `fictra devnet up|down|status|deploy`).

``up`` starts Anvil detached (own session; it outlives the CLI) in automine mode, deploys the whole
FICTRA system, writes the manifest and the state file, then switches to interval mining
(``block_time`` seconds per block) so chain time passes like on a real chain. Anything that fails after
Anvil started stops it again and removes the state: nothing is left half-started.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from fictra.chain.manifest import Manifest
from fictra.clock import Clock, SystemClock
from fictra.devnet.anvil import AnvilNode, find_anvil, port_in_use
from fictra.devnet.chainutil import MiningMode, Rpc
from fictra.devnet.state import DevnetPaths, DevnetState, clear, load_state, save_state, terminate
from fictra.errors import DevnetError, FictraError

Progress = Callable[[str], None]
Deployer = Callable[[str, Progress | None], Awaitable[Manifest]]


async def _deploy_system(rpc_url: str, progress: Progress | None = None) -> Manifest:
    from fictra.devnet.deploy import deploy_system

    return await deploy_system(rpc_url, progress=progress)


@dataclass(frozen=True)
class UpResult:
    state: DevnetState
    manifest: Manifest | None
    paths: DevnetPaths
    notes: list[str]


async def up(
    *,
    paths: DevnetPaths,
    port: int = 0,
    block_time: int = 1,
    deploy: bool = True,
    progress: Progress | None = None,
    clock: Clock | None = None,
    deployer: Deployer = _deploy_system,
) -> UpResult:
    """Start Anvil + deploy. Raises DevnetError (nothing left running) on every expected failure."""
    clock = clock or SystemClock()
    if block_time < 0:
        raise DevnetError(f"--block-time is {block_time}; use 0 (automine) or a number of seconds.")
    state, note = load_state(paths)
    notes = [note] if note else []
    if state is not None:
        raise DevnetError(
            f"A devnet is already running (pid {state.pid}, {state.rpc_url}). "
            "Use it, or stop it first with `fictra devnet down`."
        )
    find_anvil()  # a missing binary is a clear error before anything else happens
    if port and port_in_use(port):
        raise DevnetError(
            f"Port {port} on 127.0.0.1 is already in use. Stop what uses it, or pick another port "
            "with --port (0 picks a free one)."
        )
    paths.root.mkdir(parents=True, exist_ok=True)
    node = AnvilNode(port=port, log_path=paths.log)
    node.start()
    if node.process is None:  # pragma: no cover - start() either sets it or raises
        raise DevnetError("Anvil did not start.")
    state = DevnetState(
        pid=node.process.pid,
        port=node.port,
        rpc_url=node.rpc_url,
        chain_id=node.chain_id,
        block_time=block_time,
        started_at=clock.now().isoformat(timespec="seconds"),
    )
    try:
        save_state(paths, state)
        manifest = None
        if deploy:
            manifest = await deploy_onto(state=state, paths=paths, progress=progress, deployer=deployer)
        elif block_time:
            async with Rpc(state.rpc_url) as rpc:
                await MiningMode(automine=False, interval=block_time).apply(rpc)
    except BaseException as exc:
        node.stop()
        clear(paths)
        if isinstance(exc, FictraError):
            raise DevnetError(f"Devnet start-up failed, Anvil stopped: {exc.user_message}") from None
        if isinstance(exc, Exception):
            raise DevnetError(f"Devnet start-up failed, Anvil stopped: {type(exc).__name__}: {exc}") from None
        raise
    return UpResult(state=state, manifest=manifest, paths=paths, notes=notes)


async def deploy_onto(
    *,
    state: DevnetState,
    paths: DevnetPaths,
    progress: Progress | None = None,
    deployer: Deployer = _deploy_system,
) -> Manifest:
    """Deploy the system onto the running node in automine mode, save the manifest, restore mining."""
    async with Rpc(state.rpc_url) as rpc:
        await MiningMode(automine=True, interval=None).apply(rpc)
        try:
            manifest = await deployer(state.rpc_url, progress)
        finally:
            if state.block_time:
                await MiningMode(automine=False, interval=state.block_time).apply(rpc)
    manifest.save(paths.manifest)
    write_keystores(paths)
    return manifest


def write_keystores(paths: DevnetPaths) -> None:
    """The platform's signing keys (guardian, governance proposer, operator, issuer, reserve manager) as V3
    keystores under ``<devnet>/keys/`` with random passphrases in 0600 files: config/emergency.yaml and
    reserve.yaml sign with them, as they would in production."""
    from fictra.devnet.accounts import one
    from fictra.emergency.keystore import write_devnet_keystores

    signers = ("guardian", "proposer", "operator", "issuer", "reserve_manager")
    keys = {role: one(role).private_key for role in signers}
    write_devnet_keystores(paths.root / "keys", keys)


def require_running(paths: DevnetPaths) -> tuple[DevnetState, str | None]:
    state, note = load_state(paths)
    if state is None:
        raise DevnetError(
            (f"{note} " if note else "") + "No devnet is running. Start one with `fictra devnet up`."
        )
    return state, note


# scenarios about the node itself, which survive a redeployment of the contracts
NODE_SCENARIOS = ("node-down", "gas-spike")


async def redeploy(*, paths: DevnetPaths, progress: Progress | None = None) -> Manifest:
    """Deploy a fresh system onto the running node; contract scenarios no longer apply to it."""
    from fictra.devnet.scenarios.store import ScenarioStore

    state, _ = require_running(paths)
    manifest = await deploy_onto(state=state, paths=paths, progress=progress)
    store = ScenarioStore(paths.scenarios)
    for name in set(store.load()) - set(NODE_SCENARIOS):
        store.remove(name)
    return manifest


def down(*, paths: DevnetPaths) -> DevnetState:
    """Stop the running devnet and forget it. DevnetError when nothing runs."""
    state, _ = require_running(paths)
    terminate(state.pid)
    clear(paths)
    return state


@dataclass(frozen=True)
class Status:
    running: bool
    state: DevnetState | None
    answering: bool
    head_block: int | None
    chain_id: int | None
    manifest_path: Path | None
    note: str | None
    scenarios: list[str]


async def status(*, paths: DevnetPaths) -> Status:
    from fictra.devnet.scenarios.store import ScenarioStore

    state, note = load_state(paths)
    if state is None:
        return Status(False, None, False, None, None, None, note, [])
    head = chain_id = None
    answering = True
    try:
        async with Rpc(state.rpc_url, timeout=2.0) as rpc:
            head = int(await rpc.call("eth_blockNumber"), 16)
            chain_id = int(await rpc.call("eth_chainId"), 16)
    except FictraError:
        answering = False
    manifest = paths.manifest if paths.manifest.exists() else None
    in_force = sorted(ScenarioStore(paths.scenarios).load())
    return Status(True, state, answering, head, chain_id, manifest, note, in_force)


def started_at(state: DevnetState) -> datetime:
    return datetime.fromisoformat(state.started_at)
