from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fictra.db.engine import session_factory

from .receiver import Receiver


@pytest.fixture
async def receiver_factory() -> AsyncIterator[Callable[..., Coroutine[Any, Any, Receiver]]]:
    started: list[Receiver] = []

    async def make(**kw: Any) -> Receiver:
        r = Receiver(**kw)
        await r.start()
        started.append(r)
        return r

    yield make
    for r in started:
        await r.stop()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
def base_dir(tmp_path: Path) -> Path:
    return tmp_path
