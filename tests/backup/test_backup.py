"""create → verify → restore on SQLite and PostgreSQL; tampered backups refused with the reason; restore
refused while a platform holds a live lease or the follower's checkpoint is fresh."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from fictra.audit.verify import verify_log
from fictra.backup import create_backup, in_use, read_manifest, restore_backup, verify_backup
from fictra.backup.manifest import Snapshot, manifest_path, sha256_of
from fictra.backup.snapshot import take
from fictra.backup.verify import audit_keys
from fictra.clock import FakeClock
from fictra.db.engine import make_engine, session_factory
from fictra.errors import ConflictError, UsageError

from .helpers import execute, hold_lease, populate, scalar


async def _snapshot(url: str) -> Snapshot:
    engine = make_engine(url)
    try:
        async with session_factory(engine)() as session:
            return await take(session)
    finally:
        await engine.dispose()


async def test_round_trip(database_url: str, data_dir: Path, clock: FakeClock, tmp_path: Path) -> None:
    await populate(url=database_url, data_dir=data_dir, clock=clock)
    await hold_lease(database_url, clock=clock, seconds=3600)  # the backup is taken while a job runs
    before = await _snapshot(database_url)
    out = tmp_path / "backups"
    made = await create_backup(database_url=database_url, out=out, clock=clock)

    # the manifest describes the database as it was copied
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE(made.backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(made.manifest.stat().st_mode) == 0o600
    manifest = read_manifest(made.manifest)
    assert manifest.sha256 == sha256_of(made.backup)
    assert manifest.snapshot == before
    assert manifest.snapshot.audit_head.size == 6
    assert manifest.snapshot.audit_head.latest_index == 5
    assert manifest.snapshot.checkpoint is not None and manifest.snapshot.checkpoint.tree_size == 5
    assert manifest.snapshot.row_counts["audit_entries"] == 6
    assert manifest.snapshot.schema_revisions
    doc = json.loads(made.manifest.read_text())
    assert doc["database"] == database_url.split(":")[0] and doc["created_at"]

    result = await verify_backup(backup=made.backup, data_dir=data_dir, database_url=database_url)
    assert result.ok, result.problem
    assert "6 entries, 1 checkpoint verified" in result.summary()
    assert "seals not checked" not in result.summary()

    # the live database moves on (the backup's own record, more rows); the restore brings the copy back
    await execute(database_url, "DELETE FROM job_leases")
    with pytest.raises(ConflictError, match="--yes"):
        await restore_backup(backup=made.backup, into=database_url, clock=clock)
    await restore_backup(backup=made.backup, into=database_url, clock=clock, yes=True, data_dir=data_dir)
    after = await _snapshot(database_url)
    assert after.row_counts["job_leases"] == 1
    # the copied lease belonged to the site the backup came from: freed, so the new site's jobs run at once
    assert await scalar(database_url, "SELECT count(*) FROM job_leases WHERE holder IS NOT NULL") == 0
    assert after.audit_head.size == 7  # the backup's 6 entries and the restore's own record
    assert after.checkpoint == before.checkpoint
    engine = make_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            keys = audit_keys(data_dir)
            report = await verify_log(session, verifier=keys.verifier, seal=keys.seal)
    finally:
        await engine.dispose()
    assert report.ok and report.seals_checked, report.summary()


async def test_one_byte_changed_is_refused(
    database_url: str, data_dir: Path, clock: FakeClock, tmp_path: Path
) -> None:
    await populate(url=database_url, data_dir=data_dir, clock=clock)
    made = await create_backup(database_url=database_url, out=tmp_path / "b", clock=clock)
    raw = bytearray(made.backup.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    made.backup.write_bytes(bytes(raw))
    result = await verify_backup(backup=made.backup, data_dir=data_dir, database_url=database_url)
    assert not result.ok
    assert "sha256 mismatch" in result.summary() and "\n" not in result.summary()
    with pytest.raises(UsageError, match="sha256 mismatch"):
        await restore_backup(backup=made.backup, into=database_url, clock=clock, yes=True)


async def test_altered_audit_row_is_refused(
    database_url: str, data_dir: Path, clock: FakeClock, tmp_path: Path
) -> None:
    """An audit row changed in the database before the backup: the file and manifest agree, the restored
    copy's chain does not."""
    await populate(url=database_url, data_dir=data_dir, clock=clock)
    await execute(database_url, "UPDATE audit_entries SET target = 'thing:forged' WHERE idx = 2")
    made = await create_backup(database_url=database_url, out=tmp_path / "b", clock=clock)
    result = await verify_backup(backup=made.backup, data_dir=data_dir, database_url=database_url)
    assert not result.ok
    assert "audit log TAMPERED — first bad index 2" in result.summary()


async def test_audit_row_altered_inside_the_sqlite_file(
    tmp_path: Path, data_dir: Path, database_url: str, clock: FakeClock
) -> None:
    """The backup file itself edited and its manifest's sha256 recomputed: the chain still gives it away."""
    if not database_url.startswith("sqlite"):
        pytest.skip("edits the SQLite backup file in place")
    import sqlite3

    await populate(url=database_url, data_dir=data_dir, clock=clock)
    made = await create_backup(database_url=database_url, out=tmp_path / "b", clock=clock)
    conn = sqlite3.connect(made.backup)
    conn.execute("UPDATE audit_entries SET actor = 'mallory' WHERE idx = 1")
    conn.commit()
    conn.close()
    doc = json.loads(made.manifest.read_text())
    doc["sha256"] = sha256_of(made.backup)
    manifest_path(made.backup).write_text(json.dumps(doc))
    result = await verify_backup(backup=made.backup, data_dir=data_dir, database_url=database_url)
    assert not result.ok
    assert "audit log TAMPERED — first bad index 1" in result.summary()


async def test_restore_refused_while_a_platform_runs(
    database_url: str, data_dir: Path, clock: FakeClock, tmp_path: Path
) -> None:
    await populate(url=database_url, data_dir=data_dir, clock=clock)
    made = await create_backup(database_url=database_url, out=tmp_path / "b", clock=clock)
    assert await in_use(database_url=database_url, clock=clock) is None
    await hold_lease(database_url, clock=clock, seconds=60)
    with pytest.raises(ConflictError, match=r"in use — job 'test\.job' is leased by host-a"):
        await restore_backup(backup=made.backup, into=database_url, clock=clock, yes=True)
    clock.advance(61)  # the holder died: its lease expired
    assert await in_use(database_url=database_url, clock=clock) is None

    # the follower's checkpoint written seconds ago: in use
    await execute(
        database_url,
        "INSERT INTO chain_checkpoint (network, block_number, block_hash, updated_at) "
        "VALUES ('devnet', 7, :h, :t)",
        h="0x" + "ab" * 32,
        t=clock.now().replace(tzinfo=None),
    )
    clock.advance(30)
    with pytest.raises(ConflictError, match="checkpoint on 'devnet' was updated 30s ago"):
        await restore_backup(backup=made.backup, into=database_url, clock=clock, yes=True)
    clock.advance(120)
    await restore_backup(backup=made.backup, into=database_url, clock=clock, yes=True)


async def test_retention_keeps_the_newest(
    database_url: str, data_dir: Path, clock: FakeClock, tmp_path: Path
) -> None:
    out = tmp_path / "b"
    names = []
    for _ in range(4):
        made = await create_backup(database_url=database_url, out=out, clock=clock, keep=2)
        names.append(made.backup.name)
        clock.advance(86400)
    left = sorted(p.name for p in out.iterdir())
    assert left == sorted([*names[2:], *(n + ".manifest.json" for n in names[2:])])


async def test_backup_job_makes_a_verified_backup(
    database_url: str, data_dir: Path, clock: FakeClock, tmp_path: Path
) -> None:
    from fictra.backup import backup_job
    from fictra.jobs import JobContext

    await populate(url=database_url, data_dir=data_dir, clock=clock)
    job = backup_job(database_url=database_url, out=tmp_path / "b", keep=3)
    assert job.name == "backup.daily" and job.cron == "30 2 * * *"
    engine = make_engine(database_url)
    try:
        ctx = JobContext(
            job=job.name,
            due_at=clock.now(),
            now=clock.now(),
            clock=clock,
            sessions=session_factory(engine),
            holder="test",
        )
        await job.run(ctx)
    finally:
        await engine.dispose()
    (made,) = [p for p in (tmp_path / "b").iterdir() if p.suffix == ".sqlite" or p.suffix == ".pgdump"]
    result = await verify_backup(backup=made, data_dir=data_dir, database_url=database_url)
    assert result.ok, result.problem
