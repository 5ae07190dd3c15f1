"""Seals make the tail tamper-evident: truncating the last entry, rewriting it with a recomputed chain
and head, and rewriting a row under a signed checkpoint are each caught and named at the exact row, on
SQLite and PostgreSQL. Without the seal key the same tampering verifies as intact (the old gap)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.audit import seal
from fictra.audit.backfill import seal_unsealed
from fictra.audit.checkpoints import create_checkpoint
from fictra.audit.seal import SealKey
from fictra.audit.signing import AuditSigner
from fictra.audit.verify import VerifyReport, verify_log
from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.errors import ConflictError

from .helpers import rehash_row, seed, sql

N = 10
K = 4


async def _verify(engine: AsyncEngine, signer: AuditSigner, *, keyed: bool = True) -> VerifyReport:
    async with session_factory(engine)() as session:
        if not keyed:
            seal.forget(engine.url.render_as_string(hide_password=False))
        return await verify_log(session, verifier=signer.verifier)


async def _rewrite_from(engine: AsyncEngine, index: int, *, last: int) -> None:
    """Edit entry ``index``, then recompute its hash, every later link and hash, and the head row."""
    await sql(engine, "UPDATE audit_entries SET actor = 'mallory' WHERE idx = :k", k=index)
    prev = await rehash_row(engine, index)
    for later in range(index + 1, last + 1):
        await sql(engine, "UPDATE audit_entries SET prev_hash = :p WHERE idx = :i", p=prev, i=later)
        prev = await rehash_row(engine, later)
    await sql(engine, "UPDATE audit_head SET head_hash = :p", p=prev)


def _named(report: VerifyReport, index: int, kind: str) -> None:
    assert not report.ok
    assert report.first_bad_index == index, report.problems
    assert next(p.kind for p in report.problems if p.index == index) == kind, report.problems
    assert f"first bad index {index}" in report.summary()


async def test_every_entry_and_the_head_are_sealed(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    await seed(engine, clock, N)
    async with session_factory(engine)() as session:
        macs = (await session.execute(text("SELECT mac FROM audit_entries ORDER BY idx"))).scalars().all()
        head_mac = (await session.execute(text("SELECT mac FROM audit_head"))).scalar_one()
    assert len(macs) == N and all(m and len(m) == 64 for m in macs)
    assert head_mac not in macs  # a truncation cannot borrow an older head's seal from a row
    report = await _verify(engine, signer)
    assert report.ok and report.seals_checked, report.problems


async def test_truncated_last_entry_is_named(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    """(a) the last entry deleted and the head set back to the one before (a consistent unkeyed head)."""
    await seed(engine, clock, N)
    await sql(
        engine,
        "DELETE FROM audit_entries WHERE idx = :k",
        "UPDATE audit_head SET size = :k, head_hash = (SELECT entry_hash FROM audit_entries WHERE idx = :j)",
        k=N - 1,
        j=N - 2,
    )
    _named(await _verify(engine, signer), N - 1, "truncated")
    assert (await _verify(engine, signer, keyed=False)).ok  # the old gap: "intact" without seals


async def test_rewritten_last_entry_with_recomputed_chain_is_named(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    """(b) the last entry rewritten, its hash and the head recomputed."""
    await seed(engine, clock, N)
    await _rewrite_from(engine, N - 1, last=N - 1)
    _named(await _verify(engine, signer), N - 1, "modified")
    assert (await _verify(engine, signer, keyed=False)).ok


@pytest.mark.parametrize("start", [K, 0, N - 1])
async def test_rewrite_under_a_checkpoint_is_named_at_the_row(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner, start: int
) -> None:
    """(c) a row under a signed checkpoint rewritten and every later hash recomputed: the exact row, not
    the checkpoint's interval."""
    sessions = await seed(engine, clock, 3)
    async with sessions.begin() as session:
        await create_checkpoint(session, signer=signer, clock=clock)
    await seed(engine, clock, N - 3, start=3)
    async with sessions.begin() as session:
        await create_checkpoint(session, signer=signer, clock=clock)
    await seed(engine, clock, 2, start=N)  # a tail after the last checkpoint too
    await _rewrite_from(engine, start, last=N + 1)
    report = await _verify(engine, signer)
    _named(report, start, "modified")
    assert ("root", start) in [(p.kind, p.index) for p in report.problems]
    without = await _verify(engine, signer, keyed=False)
    assert without.first_bad_index != start or start == 0  # without seals: the checkpoint interval


async def test_a_removed_seal_is_named(engine: AsyncEngine, clock: FakeClock, signer: AuditSigner) -> None:
    await seed(engine, clock, N)
    await sql(engine, "UPDATE audit_entries SET mac = NULL WHERE idx = :k", k=K)
    _named(await _verify(engine, signer), K, "unsealed")
    async with session_factory(engine).begin() as session:
        with pytest.raises(ConflictError, match=f"Entry {K} has no seal but comes after sealed entry 0"):
            await seal_unsealed(session, seal=SealKey.of(signer))


async def test_a_log_from_before_seals_is_sealed_once(
    engine: AsyncEngine, database_url: str, clock: FakeClock
) -> None:
    await seed(engine, clock, N)  # no key registered: unsealed entries, as before the upgrade
    key = AuditSigner.generate()
    async with session_factory(engine)() as session:
        before = await verify_log(session, verifier=key.verifier, seal=SealKey.of(key))
    assert before.first_bad_index == 0 and before.problems[0].kind == "unsealed"
    async with session_factory(engine).begin() as session:
        assert await seal_unsealed(session, seal=SealKey.of(key)) == N
    seal.register(database_url=database_url, signer=key)
    try:
        await seed(engine, clock, 2, start=N)
        report = await _verify(engine, key)
        assert report.ok and report.entries == N + 2, report.problems
    finally:
        seal.forget(database_url)


async def test_a_rewritten_log_is_not_sealed_by_the_backfill(engine: AsyncEngine, clock: FakeClock) -> None:
    await seed(engine, clock, N)
    await sql(engine, "UPDATE audit_entries SET actor = 'mallory' WHERE idx = :k", k=K)
    async with session_factory(engine).begin() as session:
        with pytest.raises(ConflictError, match=f"fails verification at index {K}"):
            await seal_unsealed(session, seal=SealKey.of(AuditSigner.generate()))


def test_the_seal_key_is_derived_from_the_signing_key_and_never_shown() -> None:
    key = AuditSigner.generate()
    assert SealKey.of(key) == SealKey.of(key) and SealKey.of(key) != SealKey.of(AuditSigner.generate())
    assert repr(SealKey.of(key)) == "SealKey(***)"
    a = SealKey.of(key)
    assert a.entry(index=1, entry_hash="ab" * 32) != a.head(size=1, head_hash="ab" * 32)
    assert seal.database_key("sqlite:////x/y.db") == seal.database_key("sqlite+aiosqlite:////x/y.db")
