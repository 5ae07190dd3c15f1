"""A deployed FICTRA system on one Anvil per test module; each test runs inside an evm_snapshot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from fictra.chain.manifest import Manifest
from fictra.devnet.anvil import AnvilNode, rpc_call
from fictra.devnet.chainutil import DevChain
from fictra.devnet.deploy import deploy_system
from fictra.devnet.scenarios import ScenarioContext, ScenarioOptions, ScenarioStore


@dataclass
class Deployed:
    node: AnvilNode
    manifest: Manifest


@pytest.fixture(scope="module")
def deployed_node() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def deployed(deployed_node: AnvilNode) -> Deployed:
    manifest = await deploy_system(deployed_node.rpc_url)
    return Deployed(node=deployed_node, manifest=manifest)


@pytest.fixture
def snapshot(deployed: Deployed) -> Iterator[Deployed]:
    """Run the test on a snapshot of the freshly deployed chain, reverted afterwards."""
    url = deployed.node.rpc_url
    snap = rpc_call(url, "evm_snapshot")
    try:
        yield deployed
    finally:
        rpc_call(url, "evm_revert", [snap], timeout=10)
        rpc_call(url, "evm_setAutomine", [True])


@pytest_asyncio.fixture(loop_scope="session")
async def chain(snapshot: Deployed) -> AsyncIterator[DevChain]:
    async with DevChain(snapshot.node.rpc_url, snapshot.manifest) as dev:
        yield dev


@pytest.fixture
def store(tmp_path: Path) -> ScenarioStore:
    return ScenarioStore(tmp_path / "scenarios.json")


@pytest.fixture
def ctx(chain: DevChain, store: ScenarioStore, snapshot: Deployed) -> ScenarioContext:
    pid = snapshot.node.process.pid if snapshot.node.process else None
    return ScenarioContext(chain=chain, store=store, anvil_pid=pid, options=ScenarioOptions())
