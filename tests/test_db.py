from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.db.engine import migrate
from fictra.errors import ConfigError


async def test_migrated_database_has_alembic_version(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        heads = (await conn.execute(text("select version_num from alembic_version"))).scalars().all()
    assert heads, "migrate() must record at least one head"


def test_migrate_is_idempotent(database_url: str) -> None:
    migrate(database_url)
    migrate(database_url)


def test_unsupported_backend_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="Only sqlite and postgresql"):
        migrate("mysql://x@localhost/db")
