"""The devnet lifecycle in-process: a failed deployment leaves nothing running, stale state, status."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from fictra.chain.manifest import Manifest
from fictra.clock import FakeClock
from fictra.devnet import runtime
from fictra.devnet.anvil import free_port, port_in_use, rpc_call
from fictra.devnet.state import DevnetPaths, DevnetState, load_state, process_alive, save_state
from fictra.errors import DevnetError


async def _broken_deployer(rpc_url: str, progress: object) -> Manifest:
    rpc_call(rpc_url, "eth_blockNumber")  # Anvil really runs when deployment fails
    raise DevnetError("contract FoundationToken reverted during deployment")


async def test_failed_deployment_stops_anvil_and_removes_the_state(tmp_path: Path) -> None:
    paths = DevnetPaths(tmp_path / "devnet")
    port = free_port()
    with pytest.raises(DevnetError, match="Devnet start-up failed, Anvil stopped: contract FoundationToken"):
        await runtime.up(paths=paths, port=port, deployer=_broken_deployer)
    assert not paths.state.exists() and not paths.manifest.exists()
    assert not port_in_use(port)


async def test_up_without_deploy_then_status_and_down(tmp_path: Path) -> None:
    paths = DevnetPaths(tmp_path / "devnet")
    clock = FakeClock()
    result = await runtime.up(paths=paths, deploy=False, block_time=0, clock=clock)
    try:
        assert result.manifest is None
        assert result.state.started_at == clock.now().isoformat(timespec="seconds")
        info = await runtime.status(paths=paths)
        assert info.running and info.answering and info.chain_id == 31337 and info.manifest_path is None
    finally:
        runtime.down(paths=paths)
    assert not process_alive(result.state.pid)
    assert not (await runtime.status(paths=paths)).running


async def test_negative_block_time_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DevnetError, match="--block-time is -1"):
        await runtime.up(paths=DevnetPaths(tmp_path), block_time=-1)
    assert not DevnetPaths(tmp_path).state.exists()


async def test_interval_mining_is_set_after_deployment(tmp_path: Path) -> None:
    paths = DevnetPaths(tmp_path / "devnet")
    result = await runtime.up(paths=paths, block_time=2)
    try:
        assert result.manifest is not None and paths.manifest.exists()
        assert rpc_call(result.state.rpc_url, "anvil_getIntervalMining") == 2
        assert rpc_call(result.state.rpc_url, "anvil_getAutomine") is False
    finally:
        runtime.down(paths=paths)


async def test_status_of_a_frozen_node_and_down_still_stops_it(tmp_path: Path) -> None:
    paths = DevnetPaths(tmp_path / "devnet")
    result = await runtime.up(paths=paths, deploy=False, block_time=0)
    try:
        os.kill(result.state.pid, signal.SIGSTOP)
        info = await runtime.status(paths=paths)
        assert info.running and not info.answering and info.head_block is None
    finally:
        runtime.down(paths=paths)
    assert not process_alive(result.state.pid)


def test_a_recycled_pid_is_a_stale_state(tmp_path: Path) -> None:
    paths = DevnetPaths(tmp_path)
    state = DevnetState(
        pid=os.getpid(), port=1, rpc_url="http://127.0.0.1:1", chain_id=1, block_time=1, started_at="x"
    )
    save_state(paths, state)
    found, note = load_state(paths)
    assert found is None and note is not None and f"pid {os.getpid()}" in note
    assert not paths.state.exists()


def test_down_with_nothing_running(tmp_path: Path) -> None:
    with pytest.raises(DevnetError, match="No devnet is running"):
        runtime.down(paths=DevnetPaths(tmp_path))


async def test_redeploy_forgets_contract_scenarios(tmp_path: Path) -> None:
    from fictra.devnet.scenarios import ScenarioStore

    paths = DevnetPaths(tmp_path / "devnet")
    first = await runtime.up(paths=paths, block_time=0)
    try:
        store = ScenarioStore(paths.scenarios)
        store.put("pause", {})
        store.put("gas-spike", {"before": 1})
        manifest = await runtime.redeploy(paths=paths)
        assert first.manifest is not None
        assert manifest.address("PaymentToken") != first.manifest.address("PaymentToken")
        assert set(store.load()) == {"gas-spike"}
        assert Manifest.load(paths.manifest).address("PaymentToken") == manifest.address("PaymentToken")
    finally:
        runtime.down(paths=paths)
