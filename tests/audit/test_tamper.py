"""Tampering directly in the database (SQL, bypassing the service) is caught by verify_log, each kind
with the right FIRST bad index, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.audit.checkpoints import create_checkpoint
from fictra.audit.signing import AuditSigner
from fictra.audit.verify import VerifyReport, verify_log
from fictra.clock import FakeClock
from fictra.db.engine import session_factory

from .helpers import forged_hash, rehash_row, renumber, seed, sql

N = 10
K = 4


async def _verify(engine: AsyncEngine, signer: AuditSigner) -> VerifyReport:
    async with session_factory(engine)() as session:
        return await verify_log(session, verifier=signer.verifier)


def _caught(report: VerifyReport, index: int, kind: str) -> None:
    assert not report.ok
    assert report.first_bad_index == index, report.problems
    first = [p for p in report.problems if p.index == index]
    assert first and first[0].kind == kind, report.problems
    assert f"first bad index {index}" in report.summary()


async def test_intact_log_verifies(engine: AsyncEngine, clock: FakeClock, signer: AuditSigner) -> None:
    sessions = await seed(engine, clock, N)
    async with sessions.begin() as session:
        await create_checkpoint(session, signer=signer, clock=clock)
    report = await _verify(engine, signer)
    assert report.ok and report.first_bad_index is None, report.problems
    assert (report.entries, report.head_size, report.checkpoints) == (N, N, 1)
    assert report.summary() == f"audit log intact: {N} entries, 1 checkpoint verified"


async def test_empty_log_verifies(engine: AsyncEngine, signer: AuditSigner) -> None:
    report = await _verify(engine, signer)
    assert report.ok and report.entries == 0


async def test_modified_entry(engine: AsyncEngine, clock: FakeClock, signer: AuditSigner) -> None:
    await seed(engine, clock, N)
    await sql(engine, "UPDATE audit_entries SET target = 'alert:999' WHERE idx = :k", k=K)
    _caught(await _verify(engine, signer), K, "modified")


async def test_modified_json_field(engine: AsyncEngine, clock: FakeClock, signer: AuditSigner) -> None:
    await seed(engine, clock, N)
    await sql(engine, "UPDATE audit_entries SET after = NULL WHERE idx = :k", k=K)
    _caught(await _verify(engine, signer), K, "modified")


async def test_modified_and_rehashed_entry(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    await seed(engine, clock, N)
    await sql(engine, "UPDATE audit_entries SET actor = 'mallory' WHERE idx = :k", k=K)
    await rehash_row(engine, K)
    _caught(await _verify(engine, signer), K, "modified")


async def test_modified_last_entry_rehashed(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    await seed(engine, clock, N)
    await sql(engine, "UPDATE audit_entries SET actor = 'mallory' WHERE idx = :k", k=N - 1)
    await rehash_row(engine, N - 1)
    _caught(await _verify(engine, signer), N - 1, "modified")


@pytest.mark.parametrize("renumbered", [False, True], ids=["gap", "renumbered"])
async def test_deleted_entry(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner, renumbered: bool
) -> None:
    await seed(engine, clock, N)
    await sql(engine, "DELETE FROM audit_entries WHERE idx = :k", k=K)
    if renumbered:
        await renumber(engine, from_index=K + 1, by=-1)
        await sql(engine, "UPDATE audit_head SET size = size - 1")
    _caught(await _verify(engine, signer), K, "deleted")


async def test_deleted_first_entry(engine: AsyncEngine, clock: FakeClock, signer: AuditSigner) -> None:
    await seed(engine, clock, N)
    await sql(engine, "DELETE FROM audit_entries WHERE idx = 0")
    await renumber(engine, from_index=1, by=-1)
    _caught(await _verify(engine, signer), 0, "deleted")


async def test_deleted_tail(engine: AsyncEngine, clock: FakeClock, signer: AuditSigner) -> None:
    await seed(engine, clock, N)
    await sql(engine, "DELETE FROM audit_entries WHERE idx >= :k", k=N - 2)
    _caught(await _verify(engine, signer), N - 2, "deleted")


@pytest.mark.parametrize("valid_hash", [True, False], ids=["forged-hash", "garbage-hash"])
async def test_inserted_entry(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner, valid_hash: bool
) -> None:
    sessions = await seed(engine, clock, N)
    async with sessions() as session:
        prev, at = (
            await session.execute(
                text("SELECT entry_hash, at FROM audit_entries WHERE idx = :i"), {"i": K - 1}
            )
        ).one()
    await renumber(engine, from_index=K, by=1)
    from fictra.audit.models import AuditEntry

    async with sessions.begin() as session:
        row = AuditEntry(
            idx=K,
            at=clock.now(),
            actor="mallory",
            action="user.create",
            target="user:mallory",
            before=None,
            after={"role": "admin"},
            reason=None,
            prev_hash=prev,
            entry_hash="ab" * 32,
        )
        if valid_hash:
            row.entry_hash = forged_hash(index=K, prev_hash=prev, at=clock.now(), target="user:mallory")
        session.add(row)
    await sql(engine, "UPDATE audit_head SET size = size + 1")
    report = await _verify(engine, signer)
    _caught(report, K, "inserted" if valid_hash else "modified")
    assert at is not None


async def test_swapped_entries(engine: AsyncEngine, clock: FakeClock, signer: AuditSigner) -> None:
    await seed(engine, clock, N)
    await sql(
        engine,
        "UPDATE audit_entries SET idx = -1 WHERE idx = :k",
        "UPDATE audit_entries SET idx = :k WHERE idx = :k1",
        "UPDATE audit_entries SET idx = :k1 WHERE idx = -1",
        k=K,
        k1=K + 1,
    )
    _caught(await _verify(engine, signer), K, "reordered")


async def test_swapped_first_two(engine: AsyncEngine, clock: FakeClock, signer: AuditSigner) -> None:
    await seed(engine, clock, N)
    await sql(
        engine,
        "UPDATE audit_entries SET idx = -1 WHERE idx = 0",
        "UPDATE audit_entries SET idx = 0 WHERE idx = 1",
        "UPDATE audit_entries SET idx = 1 WHERE idx = -1",
    )
    _caught(await _verify(engine, signer), 0, "reordered")


async def test_entry_appended_outside_the_service(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    sessions = await seed(engine, clock, N)
    async with sessions() as session:
        prev = (
            await session.execute(text("SELECT entry_hash FROM audit_entries WHERE idx = :i"), {"i": N - 1})
        ).scalar()
    from fictra.audit.models import AuditEntry

    async with sessions.begin() as session:
        session.add(
            AuditEntry(
                idx=N,
                at=clock.now(),
                actor="mallory",
                action="user.create",
                target="user:mallory",
                after={"role": "admin"},
                prev_hash=prev,
                entry_hash=forged_hash(index=N, prev_hash=prev, at=clock.now(), target="user:mallory"),
            )
        )
    _caught(await _verify(engine, signer), N, "unexpected")


async def test_tampering_under_a_checkpoint_names_the_entry(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    """With a signed checkpoint over the log, the checkpoint fails too, but the first bad index is still
    the tampered entry (not the start of the checkpoint)."""
    sessions = await seed(engine, clock, N)
    async with sessions.begin() as session:
        await create_checkpoint(session, signer=signer, clock=clock)
    await sql(
        engine,
        "UPDATE audit_entries SET idx = -1 WHERE idx = :k",
        "UPDATE audit_entries SET idx = :k WHERE idx = :k1",
        "UPDATE audit_entries SET idx = :k1 WHERE idx = -1",
        k=K,
        k1=K + 1,
    )
    report = await _verify(engine, signer)
    _caught(report, K, "reordered")
    assert [(p.kind, p.index) for p in report.problems] == [("reordered", K), ("root", K)]


async def test_entry_moved_outside_the_chain(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    await seed(engine, clock, N)
    await sql(engine, "UPDATE audit_entries SET idx = -5 WHERE idx = :k", k=N - 1)
    report = await _verify(engine, signer)
    _caught(report, N - 1, "deleted")
    assert ("unexpected", None) in [(p.kind, p.index) for p in report.problems]
    assert report.entries == N
