"""One FICTRA deployment per session on its own Anvil; every test runs between evm_snapshot and
evm_revert, so tests stay independent without redeploying."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from contractkit import Actors, System
from web3 import AsyncWeb3

from fictra.devnet.accounts import one, role
from fictra.devnet.anvil import AnvilNode
from fictra.devnet.deploy import deploy_system


@pytest.fixture(scope="session")
def contracts_node() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest.fixture(scope="session")
async def deployed(contracts_node: AnvilNode) -> AsyncIterator[System]:
    manifest = await deploy_system(contracts_node.rpc_url)
    w3 = AsyncWeb3(AsyncWeb3.AsyncHTTPProvider(contracts_node.rpc_url, request_kwargs={"timeout": 30}))
    yield System(node=contracts_node, w3=w3, manifest=manifest)
    await w3.provider.disconnect()


@pytest.fixture
async def system(deployed: System) -> AsyncIterator[System]:
    snapshot = await deployed.rpc("evm_snapshot", [])
    yield deployed
    reverted = await deployed.rpc("evm_revert", [snapshot])
    assert reverted, "evm_revert failed: later tests would see this test's changes"


@pytest.fixture(scope="session")
def who() -> Actors:
    return Actors(
        deployer=one("deployer").address,
        guardian=one("guardian").address,
        issuer=one("issuer").address,
        fee_manager=one("fee_manager").address,
        reserve_manager=one("reserve_manager").address,
        transfer_agent=one("transfer_agent").address,
        proposer=one("proposer").address,
        attacker=one("attacker").address,
        nodes=[a.address for a in role("oracle_nodes")],
        sovereigns=[a.address for a in role("sovereigns")],
        traders=[a.address for a in role("traders")],
    )
