"""Migration 0030_compliance creates exactly the tables, columns and indexes the ORM models declare."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.db.models import metadata


def _compliance_diffs(conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    diffs = compare_metadata(ctx, metadata)

    def ours(diff: Any) -> bool:
        item = diff[0] if isinstance(diff, list) else diff
        text = repr(item)
        return "compliance_" in text

    return [d for d in diffs if ours(d)]


async def test_migration_matches_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        diffs = await conn.run_sync(_compliance_diffs)
    assert diffs == []
