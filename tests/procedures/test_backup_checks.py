"""The daily backup verification and the weekly restore drill as procedures, on real backups (SQLite and
PostgreSQL): fresh and verified backups complete both runs with the verification as evidence; an old
backup, a backup with one byte changed and one with an altered audit row fail them with the reason and
raise the step's alert; no backup, or no backup functions given, fail saying so."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from backup.helpers import populate
from fictra.audit.seal import forget, register
from fictra.backup import create_backup, read_manifest, verify_backup
from fictra.backup.create import list_backups
from fictra.backup.manifest import manifest_path, sha256_of
from fictra.clock import FakeClock
from fictra.db.engine import make_engine, session_factory
from fictra.procedures import service
from fictra.procedures.backup_tools import BackupTools
from fictra.procedures.checks import CheckContext, run_check
from fictra.procedures.jobs import ProceduresContext, run_due
from fictra.procedures.models import Outcome, ProcedureRun

from .helpers import AlertIngest, shipped

BACKUP_AT = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)  # a Sunday: the drill is due at 05:00
DAILY_DUE = datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
DRILL_DUE = datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


@pytest.fixture
def data_dir(tmp_path: Path, database_url: str) -> Iterator[Path]:
    """The platform's data dir: its audit key seals the database's entries; backups under backups/."""
    path = tmp_path / "data"
    path.mkdir(mode=0o700)
    register(database_url=database_url, data_dir=path)
    yield path
    forget(database_url)


def backup_tools(*, data_dir: Path, database_url: str) -> BackupTools:
    """What the integrator passes in (platform/assemble.py): fictra.backup's own functions."""
    return BackupTools(
        directory=data_dir / "backups",
        list_backups=list_backups,
        manifest_of=lambda p: read_manifest(manifest_path(p)),
        sha256_of=sha256_of,
        verify=lambda p: verify_backup(backup=p, data_dir=data_dir, database_url=database_url),
    )


class Rig:
    def __init__(self, *, database_url: str, data_dir: Path) -> None:
        self.url, self.data_dir = database_url, data_dir
        self.clock = FakeClock(BACKUP_AT)
        self.ingest = AlertIngest(self.clock)
        self.engine = make_engine(database_url)
        self.sessions: async_sessionmaker[AsyncSession] = session_factory(self.engine)
        self.ctx = ProceduresContext(
            config=shipped(),
            clock=self.clock,
            ingest=self.ingest,
            backups=backup_tools(data_dir=data_dir, database_url=database_url),
        )

    async def backup(self) -> Path:
        await populate(url=self.url, data_dir=self.data_dir, clock=self.clock)
        made = await create_backup(database_url=self.url, out=self.data_dir / "backups", clock=self.clock)
        return made.backup

    async def run(self, name: str, due_at: datetime) -> tuple[str, dict[str, dict[str, object]]]:
        """Run procedure ``name`` at ``due_at`` (the clock moved there): its outcome and steps' evidence."""
        self.clock.advance(max(0.0, (due_at - self.clock.now()).total_seconds()))
        proc = self.ctx.config.get(name)
        assert proc is not None
        run_id = await run_due(sessions=self.sessions, ctx=self.ctx, procedure=proc, due_at=due_at)
        async with self.sessions() as session:
            run = await session.get(ProcedureRun, run_id)
            assert run is not None
            steps = await service.steps_of(session, run_id=run_id)
            return run.outcome, {s.name: {"result": s.result, **(s.evidence or {})} for s in steps}


@pytest.fixture
async def rig(database_url: str, data_dir: Path) -> AsyncIterator[Rig]:
    made = Rig(database_url=database_url, data_dir=data_dir)
    yield made
    await made.engine.dispose()


async def test_fresh_verified_backup_completes_both_procedures_with_evidence(rig: Rig) -> None:
    backup = await rig.backup()
    outcome, steps = await rig.run("daily-backup", DAILY_DUE)
    assert outcome == Outcome.COMPLETED.value, steps
    fresh = steps["fresh"]
    assert fresh["result"] == "passed" and fresh["ok"] is True
    data = fresh["data"]
    assert isinstance(data, dict)
    assert data["backup"] == backup.name and data["backups"] == 1 and data["age_h"] == 1.5
    assert data["sha256_file"] == data["sha256_manifest"] == sha256_of(backup)
    assert f"newest backup {backup.name} is 1.5 h old (max 26 h), sha256 matches" == fresh["summary"]

    outcome, steps = await rig.run("restore-drill", DRILL_DUE)
    assert outcome == Outcome.COMPLETED.value, steps
    drill = steps["drill"]
    summary = str(drill["summary"])
    assert drill["result"] == "passed" and summary.startswith(f"backup {backup.name} verified: sha256 ok")
    assert "6 entries, 1 checkpoint verified" in summary  # the restored copy's audit chain and checkpoint
    assert drill["data"] == {
        "directory": str(rig.data_dir / "backups"),
        "backups": 1,
        "backup": backup.name,
        "verified": True,
        "summary": summary,
    }
    assert rig.ingest.findings == []


async def test_an_old_backup_fails_the_daily_verification_with_its_alert(rig: Rig) -> None:
    await rig.backup()
    outcome, steps = await rig.run("daily-backup", DAILY_DUE.replace(day=2, hour=5))  # 26.5 h later
    assert outcome == Outcome.FAILED.value
    assert steps["fresh"]["result"] == "failed"
    assert "is 26.5 h old (max 26 h)" in str(steps["fresh"]["summary"])
    assert [(f.severity.value, f.monitor) for f in rig.ingest.findings] == [("P1", "procedure:daily-backup")]


async def test_one_byte_changed_fails_freshness_and_the_drill(rig: Rig) -> None:
    backup = await rig.backup()
    raw = bytearray(backup.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    backup.write_bytes(bytes(raw))
    outcome, steps = await rig.run("daily-backup", DAILY_DUE)
    assert outcome == Outcome.FAILED.value
    assert "differs from the manifest's" in str(steps["fresh"]["summary"])
    outcome, steps = await rig.run("restore-drill", DRILL_DUE)
    assert outcome == Outcome.FAILED.value
    assert steps["drill"]["result"] == "failed"
    assert f"backup {backup.name} REFUSED: sha256 mismatch" in str(steps["drill"]["summary"])


async def test_the_drill_finds_an_altered_audit_row_the_hash_does_not(rig: Rig) -> None:
    """The SQLite backup edited and its manifest's sha256 recomputed: freshness passes, the restored
    copy's audit chain gives it away."""
    if not rig.url.startswith("sqlite"):
        pytest.skip("edits the SQLite backup file in place")
    import sqlite3

    backup = await rig.backup()
    conn = sqlite3.connect(backup)
    conn.execute("UPDATE audit_entries SET actor = 'mallory' WHERE idx = 1")
    conn.commit()
    conn.close()
    doc = json.loads(manifest_path(backup).read_text())
    doc["sha256"] = sha256_of(backup)
    manifest_path(backup).write_text(json.dumps(doc))
    outcome, steps = await rig.run("restore-drill", DRILL_DUE)
    assert outcome == Outcome.FAILED.value
    assert steps["fresh"]["result"] == "passed"
    assert steps["drill"]["result"] == "failed"
    assert "audit log TAMPERED — first bad index 1" in str(steps["drill"]["summary"])
    assert [(f.severity.value, f.labels.get("step")) for f in rig.ingest.findings] == [("P1", "drill")]


async def test_no_backup_or_no_backup_functions(rig: Rig) -> None:
    ctx = rig.ctx.checks(rig.sessions)
    for check in ("backup_fresh", "restore_drill"):
        result = await run_check(check, ctx=ctx, params={})
        assert not result.ok and result.summary.startswith(f"no backup in {rig.data_dir / 'backups'}")
        bare = CheckContext(sessions=rig.sessions, clock=rig.clock)
        result = await run_check(check, ctx=bare, params={})
        assert not result.ok
        assert result.summary == f"{check} could not run: no backup tools were given to the procedures: " + (
            "backups cannot be checked"
        )
