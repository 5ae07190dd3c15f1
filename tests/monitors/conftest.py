"""One FICTRA deployment on its own Anvil for the monitor tests; each test runs inside an evm_snapshot
and gets a DevChain, an RpcPool and a database session (SQLite, rolled back) wrapped in a Rig."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.devnet.anvil import AnvilNode, rpc_call
from fictra.devnet.chainutil import DevChain
from fictra.devnet.deploy import deploy_system
from monitors.rig import Rig


@pytest.fixture(scope="session")
def monitors_node() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def monitors_manifest(monitors_node: AnvilNode) -> Manifest:
    return await deploy_system(monitors_node.rpc_url)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def monitors_db(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite:///{tmp_path_factory.mktemp('monitors') / 'monitors.db'}"
    migrate(url)
    engine = make_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture
def snapshot(monitors_node: AnvilNode, monitors_manifest: Manifest) -> Iterator[str]:
    url = monitors_node.rpc_url
    snap = rpc_call(url, "evm_snapshot")
    try:
        yield url
    finally:
        rpc_call(url, "evm_revert", [snap], timeout=10)


@pytest_asyncio.fixture(loop_scope="session")
async def rig(snapshot: str, monitors_manifest: Manifest, monitors_db: AsyncEngine) -> AsyncIterator[Rig]:
    pool = RpcPool(
        network="devnet", urls=[snapshot], clock=SystemClock(), chain_id=monitors_manifest.chain_id
    )
    await pool.start()
    async with DevChain(snapshot, monitors_manifest) as dev, session_factory(monitors_db)() as session:
        rig = Rig(dev=dev, pool=pool, session=session, manifest=monitors_manifest, url=snapshot)
        await rig.mark()
        try:
            yield rig
        finally:
            await session.rollback()
            await pool.aclose()


@pytest.fixture
def config_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "config"
