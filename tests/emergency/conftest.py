"""Fixtures: a database session factory (SQLite and PostgreSQL) for the service tests, and a deployed
system on one Anvil per module (each test on an evm_snapshot) with a runner for the chain tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from emergency.rig import Rig, make_rig
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import FakeClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.devnet.anvil import AnvilNode, rpc_call
from fictra.devnet.deploy import deploy_system


@pytest.fixture
async def sessions(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    yield session_factory(engine)


@pytest.fixture(scope="module")
def em_node() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def em_manifest(em_node: AnvilNode) -> Manifest:
    return await deploy_system(em_node.rpc_url)


@pytest.fixture
def em_snapshot(em_node: AnvilNode, em_manifest: Manifest) -> Iterator[str]:
    url = em_node.rpc_url
    snap = rpc_call(url, "evm_snapshot")
    try:
        yield url
    finally:
        rpc_call(url, "evm_revert", [snap], timeout=10)
        rpc_call(url, "evm_setAutomine", [True])


@pytest_asyncio.fixture(loop_scope="session")
async def rig(em_snapshot: str, em_manifest: Manifest, tmp_path: Path) -> AsyncIterator[Rig]:
    url = f"sqlite:///{tmp_path / 'emergency.db'}"
    migrate(url)
    engine = make_engine(url)
    clock = FakeClock()
    pool = RpcPool(network="devnet", urls=[em_snapshot], clock=clock, chain_id=em_manifest.chain_id)
    await pool.start()
    try:
        async with make_rig(
            url=em_snapshot, manifest=em_manifest, pool=pool, sessions=session_factory(engine), clock=clock,
            tmp=tmp_path,
        ) as built:  # fmt: skip
            yield built
    finally:
        await pool.aclose()
        await engine.dispose()


@pytest.fixture
def rig_url(em_snapshot: str) -> str:
    """The devnet's URL inside this test's snapshot."""
    return em_snapshot
