"""Read what a database holds: row counts per table, the audit head, the latest signed checkpoint and
the schema revisions (Alembic's ``alembic_version``)."""

from __future__ import annotations

from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.checkpoints import latest_checkpoint
from fictra.audit.models import AuditEntry
from fictra.audit.service import head
from fictra.backup.manifest import AuditHead, CheckpointRef, Snapshot


def _tables(conn: Connection) -> list[str]:
    return sorted(inspect(conn).get_table_names())


def quote(session: AsyncSession, name: str) -> str:
    bind = session.get_bind()
    return str(bind.dialect.identifier_preparer.quote(name))


async def table_names(session: AsyncSession) -> list[str]:
    conn = await session.connection()
    return await conn.run_sync(_tables)


async def row_counts(session: AsyncSession) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in await table_names(session):
        query = text(f"SELECT count(*) FROM {quote(session, name)}")  # noqa: S608 - names from the catalog
        counts[name] = int((await session.execute(query)).scalar_one())
    return counts


async def schema_revisions(session: AsyncSession) -> list[str]:
    if "alembic_version" not in await table_names(session):
        return []
    rows = (await session.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    return sorted(str(r) for r in rows)


async def audit_head(session: AsyncSession) -> AuditHead:
    size, _ = await head(session)
    if size == 0:
        return AuditHead(size=0, latest_index=None, latest_hash=None)
    latest = (
        await session.execute(select(AuditEntry.entry_hash).where(AuditEntry.idx == size - 1))
    ).scalar_one_or_none()
    return AuditHead(size=size, latest_index=size - 1, latest_hash=latest)


async def checkpoint_ref(session: AsyncSession) -> CheckpointRef | None:
    cp = await latest_checkpoint(session)
    if cp is None:
        return None
    return CheckpointRef(
        id=cp.id,
        tree_size=cp.tree_size,
        root_hash=cp.root_hash,
        key_id=cp.key_id,
        signature=cp.signature,
        created_at=cp.created_at.isoformat(),
    )


async def take(session: AsyncSession) -> Snapshot:
    """The snapshot of the database behind ``session`` (call inside one transaction for consistency)."""
    return Snapshot(
        row_counts=await row_counts(session),
        audit_head=await audit_head(session),
        checkpoint=await checkpoint_ref(session),
        schema_revisions=await schema_revisions(session),
    )
