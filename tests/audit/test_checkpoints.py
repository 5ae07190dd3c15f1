"""Signed checkpoints: made over the whole log, refused over a tampered one; forged signatures, roots
that do not match the entries, rewritten chains and deleted checkpoints are caught; proofs from the
database check against the signed roots; the periodic task."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fictra.audit import merkle, seal
from fictra.audit.checkpoints import (
    create_checkpoint,
    leaves,
    list_checkpoints,
    prove_consistency,
    prove_inclusion,
    statement,
)
from fictra.audit.jobs import checkpoint_job
from fictra.audit.seal import SealKey
from fictra.audit.signing import AuditSigner
from fictra.audit.verify import VerifyReport, verify_log
from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.errors import ConflictError
from fictra.jobs import Job, JobContext

from .helpers import rehash_row, seed, sql


async def _verify(engine: AsyncEngine, signer: AuditSigner) -> VerifyReport:
    async with session_factory(engine)() as session:
        return await verify_log(session, verifier=signer.verifier)


async def _checkpoint(engine: AsyncEngine, signer: AuditSigner, clock: FakeClock) -> int:
    async with session_factory(engine).begin() as session:
        made = await create_checkpoint(session, signer=signer, clock=clock)
    assert made is not None
    return made.tree_size


async def test_checkpoints_sign_the_rfc6962_root(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        assert await create_checkpoint(session, signer=signer, clock=clock) is None  # empty log
    await seed(engine, clock, 7)
    assert await _checkpoint(engine, signer, clock) == 7
    assert await _checkpoint(engine, signer, clock) == 7  # nothing new: the same checkpoint
    await seed(engine, clock, 6, start=7)
    assert await _checkpoint(engine, signer, clock) == 13
    async with sessions() as session:
        cps = await list_checkpoints(session)
        hashes = (
            (await session.execute(text("SELECT entry_hash FROM audit_entries ORDER BY idx"))).scalars().all()
        )
        assert await leaves(session) == merkle.leaf_hashes([bytes.fromhex(h) for h in hashes])
    assert [c.tree_size for c in cps] == [13, 7]
    tree = merkle.leaf_hashes([bytes.fromhex(h) for h in hashes])
    for cp in cps:
        assert cp.root_hash == merkle.root(tree[: cp.tree_size]).hex()
        message = statement(tree_size=cp.tree_size, root_hash=cp.root_hash, created_at=cp.created_at)
        assert signer.verifier.verify(message, cp.signature)
        assert not AuditSigner.generate().verifier.verify(message, cp.signature)
    report = await _verify(engine, signer)
    assert report.ok and report.checkpoints == 2, report.problems


async def test_proofs_from_the_database(engine: AsyncEngine, clock: FakeClock, signer: AuditSigner) -> None:
    await seed(engine, clock, 5)
    await _checkpoint(engine, signer, clock)
    await seed(engine, clock, 6, start=5)
    await _checkpoint(engine, signer, clock)
    async with session_factory(engine)() as session:
        for index in range(11):
            proof = await prove_inclusion(session, index=index)
            assert proof.valid and proof.tree_size == 11
            assert merkle.verify_inclusion(
                bytes.fromhex(proof.leaf_hash),
                index,
                11,
                [bytes.fromhex(p) for p in proof.path],
                bytes.fromhex(proof.root_hash),
            )
        early = await prove_inclusion(session, index=2, tree_size=5)
        assert early.valid and len(early.path) == 3
        with pytest.raises(ConflictError, match="Entry 7 is not covered by checkpoint"):
            await prove_inclusion(session, index=7, tree_size=5)
        cons = await prove_consistency(session, first=5, second=11)
        assert cons.valid and cons.proof
        assert merkle.verify_consistency(
            5,
            11,
            bytes.fromhex(cons.first_root),
            bytes.fromhex(cons.second_root),
            [bytes.fromhex(p) for p in cons.proof],
        )


async def test_forged_checkpoint_signature(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    await seed(engine, clock, 6)
    await _checkpoint(engine, signer, clock)
    mallory = AuditSigner.generate()
    async with session_factory(engine).begin() as session:
        (cp,) = await list_checkpoints(session)
        cp.signature = mallory.sign(
            statement(tree_size=cp.tree_size, root_hash=cp.root_hash, created_at=cp.created_at)
        )
    report = await _verify(engine, signer)
    assert not report.ok and report.first_bad_index is None
    assert [p.kind for p in report.problems] == ["signature"]
    assert "has a signature that does not verify" in report.problems[0].message
    await sql(engine, "UPDATE audit_checkpoints SET key_id = :k", k=mallory.key_id)
    report = await _verify(engine, signer)
    assert [p.kind for p in report.problems] == ["signature"] and "not the platform key" in report.summary()
    await sql(engine, "UPDATE audit_checkpoints SET signature = 'zz'")  # not even hex
    assert not (await _verify(engine, AuditSigner.generate())).ok


async def test_checkpoint_root_not_matching_entries(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    await seed(engine, clock, 8)
    await _checkpoint(engine, signer, clock)
    forged_root = "ab" * 32
    async with session_factory(engine).begin() as session:  # a root re-signed with the real key
        (cp,) = await list_checkpoints(session)
        cp.root_hash = forged_root
        cp.signature = signer.sign(
            statement(tree_size=cp.tree_size, root_hash=forged_root, created_at=cp.created_at)
        )
    report = await _verify(engine, signer)
    assert [p.kind for p in report.problems] == ["root"]
    assert "root does not match entries [0, 8)" in report.problems[0].message
    async with session_factory(engine)() as session:  # proofs against the forged root do not check out
        assert not (await prove_inclusion(session, index=3)).valid


async def test_rewritten_chain_is_caught_by_the_checkpoints(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    """Modify entry 5 and re-hash every later entry (and the head): the chain is consistent again, but
    entry 5's seal names it exactly (and the checkpoint over 10 entries fails at 5 too). Without the
    seal key only the checkpoints speak: entries up to the earlier checkpoint (3) are vouched for."""
    await seed(engine, clock, 3)
    await _checkpoint(engine, signer, clock)
    await seed(engine, clock, 7, start=3)
    await _checkpoint(engine, signer, clock)
    await sql(engine, "UPDATE audit_entries SET target = 'alert:none' WHERE idx = 5")
    prev = await rehash_row(engine, 5)
    for index in range(6, 10):
        await sql(engine, "UPDATE audit_entries SET prev_hash = :p WHERE idx = :i", p=prev, i=index)
        prev = await rehash_row(engine, index)
    await sql(engine, "UPDATE audit_head SET head_hash = :p", p=prev)
    report = await _verify(engine, signer)
    assert [(p.kind, p.index) for p in report.problems] == [
        ("modified", 5),
        ("truncated", None),  # the head row was recomputed too: its seal fails, explained by entry 5
        ("root", 5),
    ], report.problems
    assert "first bad index 5: Entry 5 was rewritten" in report.summary()
    async with session_factory(engine)() as session:
        unsealed = await verify_log(session, verifier=signer.verifier, seal=SealKey(b"\0" * 32))
    assert unsealed.first_bad_index == 0  # a wrong seal key fails from the first entry
    seal.forget(engine.url.render_as_string(hide_password=False))
    without = await _verify(engine, signer)
    assert [p.kind for p in without.problems] == ["root"] and without.first_bad_index == 3
    assert "entries from 3 on were rewritten" in without.summary()


async def test_deleted_tail_covered_by_a_checkpoint(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    await seed(engine, clock, 6)
    await _checkpoint(engine, signer, clock)
    await sql(engine, "DELETE FROM audit_entries WHERE idx >= 4", "UPDATE audit_head SET size = 4")
    await sql(
        engine, "UPDATE audit_head SET head_hash = (SELECT entry_hash FROM audit_entries WHERE idx = 3)"
    )
    report = await _verify(engine, signer)
    assert report.first_bad_index == 4 and [p.kind for p in report.problems] == ["truncated", "deleted"]
    assert "first bad index 4: The head row (size 4) does not carry a valid seal" in report.summary()
    assert "covers 6 entries but only 4 are stored" in report.problems[1].message
    async with session_factory(engine).begin() as session:
        with pytest.raises(ConflictError, match="entries were deleted"):
            await create_checkpoint(session, signer=signer, clock=clock)
        with pytest.raises(ConflictError, match="covers 6 entries but only 4 are stored"):
            await prove_inclusion(session, index=1)


async def test_no_checkpoint_over_a_tampered_log(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    await seed(engine, clock, 4)
    await _checkpoint(engine, signer, clock)
    await seed(engine, clock, 4, start=4)
    await sql(engine, "UPDATE audit_entries SET actor = 'mallory' WHERE idx = 6")
    async with session_factory(engine).begin() as session:
        with pytest.raises(ConflictError, match="fails verification at index 6"):
            await create_checkpoint(session, signer=signer, clock=clock)
    await sql(engine, "UPDATE audit_entries SET actor = 'eve' WHERE idx = 1")  # inside the old checkpoint,
    await rehash_row(engine, 1)  # re-hashed: its leaf no longer matches the signed root
    async with session_factory(engine).begin() as session:
        with pytest.raises(ConflictError, match=r"Entries \[0, 4\) no longer match checkpoint"):
            await create_checkpoint(session, signer=signer, clock=clock)
        assert len(await list_checkpoints(session)) == 1


def _run_of(job: Job, sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> JobContext:
    now = clock.now()
    return JobContext(job=job.name, due_at=now, now=now, clock=clock, sessions=sessions, holder="test")


async def test_checkpoint_job(engine: AsyncEngine, clock: FakeClock, signer: AuditSigner) -> None:
    """The job signs a checkpoint when entries were added; a tampered log fails the run with the reason
    (the scheduler records it and retries at the next due time) and signs nothing."""
    sessions = session_factory(engine)
    job = checkpoint_job(signer, every=timedelta(minutes=5))
    assert (job.name, job.every) == ("audit.checkpoint", timedelta(minutes=5))
    await job.run(_run_of(job, sessions, clock))  # an empty log: nothing to sign
    await seed(engine, clock, 3)
    await job.run(_run_of(job, sessions, clock))
    await job.run(_run_of(job, sessions, clock))  # nothing added since: the same checkpoint
    await sql(engine, "UPDATE audit_entries SET actor = 'mallory' WHERE idx = 0")
    await rehash_row(engine, 0)
    await seed(engine, clock, 1, start=3)
    with pytest.raises(ConflictError, match="audit checkpoint refused"):
        await job.run(_run_of(job, sessions, clock))
    async with sessions() as session:
        assert [c.tree_size for c in await list_checkpoints(session)] == [3]


async def test_checkpoint_job_on_a_broken_database_fails_the_run_with_the_reason(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    await seed(engine, clock, 2)
    await sql(engine, "DROP TABLE audit_checkpoints")
    job = checkpoint_job(signer)
    with pytest.raises(ConflictError, match=r"audit checkpoint failed \(\w+Error"):
        await job.run(_run_of(job, session_factory(engine), clock))


async def test_checkpoint_race_keeps_the_first(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers checkpoint the same size at once: the loser's insert hits the unique tree size, it gets
    the winner's checkpoint, and its own transaction carries on (a savepoint took the failure)."""
    from fictra.audit import checkpoints

    await seed(engine, clock, 3)
    sessions = session_factory(engine)
    async with sessions.begin() as theirs:
        first = await create_checkpoint(theirs, signer=signer, clock=clock)
    real = checkpoints.latest_checkpoint

    async def stale_read(session: object) -> None:  # the loser read "no checkpoint" just before
        monkeypatch.setattr(checkpoints, "latest_checkpoint", real)
        return None

    monkeypatch.setattr(checkpoints, "latest_checkpoint", stale_read)
    async with sessions.begin() as mine:
        second = await create_checkpoint(mine, signer=AuditSigner.generate(), clock=clock)
        assert first is not None and second is not None and second.id == first.id
        assert (await mine.execute(text("SELECT count(*) FROM audit_checkpoints"))).scalar() == 1
    async with sessions() as session:
        (only,) = await list_checkpoints(session)
    assert only.key_id == signer.key_id


async def test_consistency_proof_against_a_forged_root(
    engine: AsyncEngine, clock: FakeClock, signer: AuditSigner
) -> None:
    await seed(engine, clock, 4)
    await _checkpoint(engine, signer, clock)
    await seed(engine, clock, 3, start=4)
    await _checkpoint(engine, signer, clock)
    await sql(engine, "UPDATE audit_checkpoints SET root_hash = :r WHERE tree_size = 4", r="cd" * 32)
    async with session_factory(engine)() as session:
        assert not (await prove_consistency(session, first=4, second=7)).valid
        assert (await prove_consistency(session, first=7, second=7)).valid
        with pytest.raises(ConflictError, match="from the older tree to the newer: 7 > 4"):
            await prove_consistency(session, first=7, second=4)
