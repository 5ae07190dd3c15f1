"""Shared helpers of the audit tests: a seeded log and direct-SQL tampering."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fictra.audit.canonical import entry_hash
from fictra.audit.service import record
from fictra.clock import FakeClock
from fictra.db.engine import session_factory


async def seed(
    engine: AsyncEngine, clock: FakeClock, n: int, *, start: int = 0
) -> async_sessionmaker[AsyncSession]:
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        for i in range(start, start + n):
            await record(
                session,
                actor="alice" if i % 2 else "bob",
                action="alert.acknowledge" if i % 3 else "silence.create",
                target=f"alert:{i}",
                before={"state": "firing", "n": i},
                after={"state": "acknowledged", "n": i, "note": f"entry {i}"},
                reason=None if i % 4 else f"reason {i}",
                clock=clock,
            )
            clock.advance(1.5)
    return sessions


async def sql(engine: AsyncEngine, *statements: str, **params: object) -> None:
    """Run statements directly against the database, bypassing the audit service (the tamperer)."""
    async with engine.begin() as conn:
        for statement in statements:
            await conn.execute(text(statement), params)


async def renumber(engine: AsyncEngine, *, from_index: int, by: int) -> None:
    """Shift the indices of entries >= from_index by ``by``, one row at a time (no PK clash)."""
    async with engine.begin() as conn:
        rows = (
            (
                await conn.execute(
                    text("SELECT idx FROM audit_entries WHERE idx >= :k ORDER BY idx"), {"k": from_index}
                )
            )
            .scalars()
            .all()
        )
        for idx in sorted(rows, reverse=by > 0):
            await conn.execute(
                text("UPDATE audit_entries SET idx = :new WHERE idx = :old"), {"new": idx + by, "old": idx}
            )


async def rehash_row(engine: AsyncEngine, index: int) -> str:
    """Recompute and store the entry hash of row ``index`` (a tamperer who knows the algorithm)."""
    from fictra.audit.chain import rehash
    from fictra.audit.models import AuditEntry

    async with session_factory(engine).begin() as session:
        row = await session.get(AuditEntry, index)
        assert row is not None
        row.entry_hash = rehash(row)
        return row.entry_hash


def forged_hash(*, index: int, prev_hash: str, at: object, target: str) -> str:
    return entry_hash(
        index=index,
        at=at,  # type: ignore[arg-type]
        actor="mallory",
        action="user.create",
        target=target,
        before=None,
        after={"role": "admin"},
        reason=None,
        prev_hash=prev_hash,
    )
