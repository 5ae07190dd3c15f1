from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from chainkit import Chain
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fictra.chain.pool import RpcPool
from fictra.clock import SystemClock
from fictra.db.engine import session_factory
from fictra.devnet.anvil import AnvilNode


@pytest.fixture
def chain(anvil: AnvilNode) -> Iterator[Chain]:
    driver = Chain(anvil.rpc_url)
    yield driver
    driver.close()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
async def pool(anvil: AnvilNode) -> AsyncIterator[RpcPool]:
    rpc_pool = RpcPool(network="devnet", urls=[anvil.rpc_url], clock=SystemClock(), chain_id=31337)
    await rpc_pool.start()
    yield rpc_pool
    await rpc_pool.aclose()
