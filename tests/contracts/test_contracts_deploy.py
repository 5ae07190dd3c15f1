"""deploy_system: the manifest it returns, the seeded state, and how a failing step is reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from contractkit import Actors, System

from fictra.chain.manifest import Manifest
from fictra.clock import FakeClock
from fictra.devnet import deploy as deploy_module
from fictra.devnet.accounts import ROLES, role
from fictra.devnet.anvil import AnvilNode, free_port, rpc_call
from fictra.devnet.deploy import deploy_system
from fictra.errors import DevnetError

E18 = 10**18
NAMES = {
    "FoundationToken": "FoundationToken", "PaymentToken": "PaymentToken", "Reserve": "Reserve",
    "EmergencyController": "EmergencyController", "Timelock": "FictraTimelock", "Governor": "FictraGovernor",
    "UniswapV2Factory": "UniswapV2Factory", "Pool:PT-CASH": "UniswapV2Pair",
    "Asset:CASH": "ReserveAsset", "Asset:TBILL": "ReserveAsset", "Asset:GOLD": "ReserveAsset",
    "ProofOfReserve": "ProofOfReserveFeed",
}  # fmt: skip
FEEDS = ("BRENT", "WTI", "GOLD", "WHEAT", "COPPER", "NATGAS", "CASH", "TBILL")
NAMES.update({f"Feed:{s}": "CommodityFeed" for s in FEEDS})


async def test_manifest_names_every_contract_with_its_artifact(system: System) -> None:
    m = system.manifest
    assert m.chain_id == 31337 and m.rpc_url == system.node.rpc_url and m.deployed_block >= 1
    assert {name: e.artifact for name, e in m.contracts.items()} == NAMES
    for name, entry in m.contracts.items():
        code = await system.rpc("eth_getCode", [entry.address, "latest"])
        assert len(code) > 2, f"{name} has no code"
        assert entry.proxy == (name in ("PaymentToken", "Reserve")), name
        assert entry.deployed_block >= m.deployed_block, name
    for name in ("PaymentToken", "Reserve"):
        impl = m.contracts[name].implementation
        assert impl is not None and impl != m.contracts[name].address
        assert len(await system.rpc("eth_getCode", [impl, "latest"])) > 2


async def test_manifest_roles_and_round_trip(system: System, tmp_path: Path) -> None:
    m = system.manifest
    assert set(m.roles) == set(ROLES)
    assert m.roles["oracle_nodes"] == [a.address for a in role("oracle_nodes")]
    path = tmp_path / "manifest.json"
    m.save(path)
    assert Manifest.load(path) == m


async def test_pool_and_traders_are_seeded(system: System, who: Actors) -> None:
    r0, r1, _ = await system.view("Pool:PT-CASH", "getReserves")
    assert (r0, r1) == (1_000_000 * E18, 1_000_000 * E18)
    assert await system.view("Pool:PT-CASH", "balanceOf", who.deployer) > 0
    tokens = {await system.view("Pool:PT-CASH", "token0"), await system.view("Pool:PT-CASH", "token1")}
    assert tokens == {system.addr("PaymentToken"), system.addr("Asset:CASH")}
    for trader in who.traders:
        assert await system.view("PaymentToken", "balanceOf", trader) == 100_000 * E18
        assert await system.view("Asset:CASH", "balanceOf", trader) == 100_000 * E18
    assert (
        await system.view("PaymentToken", "feeBps")
        == system.manifest.contracts["PaymentToken"].meta["fee_bps"]
    )


async def test_unreachable_node_is_a_devnet_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(DevnetError) as caught:
        await deploy_system(url)
    assert "Cannot reach the devnet node" in caught.value.user_message and url in caught.value.user_message


async def test_reverting_step_is_named_with_its_decoded_error(
    anvil: AnvilNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deploy_module, "SOVEREIGN_ISSUED", deploy_module.SOVEREIGN_CAP + 1)
    with pytest.raises(DevnetError) as caught:
        await deploy_system(anvil.rpc_url)
    message = caught.value.user_message
    assert "Deploy step 'FoundationToken.issue(SOVEREIGN-1" in message
    assert "FoundationTokenAllocationExceeded(sovereignId=0x" in message
    assert f"remaining={deploy_module.SOVEREIGN_CAP}" in message


async def test_reverting_constructor_is_named(anvil: AnvilNode, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(deploy_module, "INITIAL_FEE_BPS", 500)
    with pytest.raises(DevnetError) as caught:
        await deploy_system(anvil.rpc_url)
    assert "Deploy step 'deploy PaymentToken'" in caught.value.user_message
    assert "PaymentTokenFeeAboveMaximum(fee=500, max=100)" in caught.value.user_message


async def test_rejected_transaction_is_named(anvil: AnvilNode) -> None:
    manager = role("reserve_manager")[0].address
    rpc_call(anvil.rpc_url, "anvil_setBalance", [manager, "0x0"])
    progress: list[str] = []
    with pytest.raises(DevnetError) as caught:
        await deploy_system(anvil.rpc_url, progress=progress.append)
    assert f"from {manager}' was rejected by the node" in caught.value.user_message
    assert progress[0] == "deploying contracts and wiring roles"


async def test_progress_is_reported(anvil: AnvilNode) -> None:
    progress: list[str] = []
    manifest = await deploy_system(anvil.rpc_url, progress=progress.append)
    assert len(progress) == 4 and progress[-1].startswith(f"deployed {len(manifest.contracts)} contracts in ")


async def test_node_that_does_not_mine_times_out_on_the_injected_clock(anvil: AnvilNode) -> None:
    rpc_call(anvil.rpc_url, "evm_setAutomine", [False])
    clock = FakeClock()
    with pytest.raises(DevnetError) as caught:
        await deploy_system(anvil.rpc_url, clock=clock)
    assert "was not mined within 60s. Is the node mining" in caught.value.user_message
    assert 60 < clock.monotonic() < 62


async def test_pool_entry_records_the_pair_creation_block(system: System) -> None:
    entry = system.manifest.contracts["Pool:PT-CASH"]
    assert entry.deployed_block > system.manifest.contracts["UniswapV2Factory"].deployed_block
    assert entry.meta == {"base": "PaymentToken", "quote": "Asset:CASH"}
