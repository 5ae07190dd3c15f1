from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.support.config import SupportConfig
from fictra.support.intake import SmtpIntake


def support_config(**kw: Any) -> SupportConfig:
    data: dict[str, Any] = {
        "intake": {"enabled": True, "host": "127.0.0.1", "port": 2525, "max_bytes": 4096},
        "replies": {"receiver": "support", "channel": "mail"},
        **kw,
    }
    return SupportConfig.model_validate(data)


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


@pytest.fixture
async def intake(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> AsyncIterator[SmtpIntake]:
    server = SmtpIntake(config=support_config(), sessions=sessions, clock=clock)
    await server.start(port=0)
    try:
        yield server
    finally:
        await server.stop()
