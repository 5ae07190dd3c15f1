from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from e2e.harness import Running, start


@pytest.fixture(scope="module")
async def platform(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    """The FICTRA system on a fresh Anvil, and the platform following it (one per test module)."""
    running = await start(tmp_path_factory.mktemp("e2e"))
    try:
        yield running
    finally:
        await running.close()
