"""Migration 0011 creates exactly the tables, columns and indexes the job models declare, and
``migrate()`` reaches it along with every other head."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.db.models import metadata


def _job_diffs(conn: Connection) -> list[Any]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    diffs = compare_metadata(ctx, metadata)
    return [d for d in diffs if "job_runs" in repr(d) or "job_leases" in repr(d)]


async def test_migration_matches_models(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        assert await conn.run_sync(_job_diffs) == []
        heads = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    assert "0011_jobs" in heads
