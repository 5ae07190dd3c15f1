"""A deployed FICTRA system on one Anvil for the package (each chain test inside an evm_snapshot, reverted
afterwards)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import pytest_asyncio

from fictra.chain.manifest import Manifest
from fictra.devnet.anvil import AnvilNode, rpc_call
from fictra.devnet.deploy import deploy_system


@pytest.fixture(scope="package")
def gov_node() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def gov_manifest(gov_node: AnvilNode) -> Manifest:
    return await deploy_system(gov_node.rpc_url)


@pytest.fixture
def gov_url(gov_node: AnvilNode, gov_manifest: Manifest) -> Iterator[str]:
    url = gov_node.rpc_url
    snap = rpc_call(url, "evm_snapshot")
    try:
        yield url
    finally:
        rpc_call(url, "evm_revert", [snap], timeout=10)
