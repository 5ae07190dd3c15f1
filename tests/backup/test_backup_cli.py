"""`fictra backup create|verify|restore` through the real CLI entry, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from cli.clirun import fictra

from .helpers import execute


async def test_backup_cli_round_trip(database_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"FICTRA_DATABASE_URL": database_url}

    assert fictra(data, "backup", "create", env=env).returncode == 0  # audit entry 0: backup.create
    done = fictra(data, "audit", "checkpoint", env=env)
    assert done.returncode == 0, done.stderr
    made = fictra(data, "backup", "create", "--keep", "1", env=env)
    assert made.returncode == 0, made.stderr
    assert "removed old backup" in made.stdout
    backups = sorted((data / "backups").glob("fictra-*"))
    assert len(backups) == 2  # the newest backup and its manifest
    backup = next(p for p in backups if not p.name.endswith(".manifest.json"))

    ok = fictra(data, "backup", "verify", str(backup), env=env)
    assert ok.returncode == 0, ok.stderr
    assert "verified: sha256 ok" in ok.stdout and "1 entry, 1 checkpoint verified" in ok.stdout

    # one byte changed: refused with the reason, on one line, exit 2
    tampered = tmp_path / backup.name
    raw = bytearray(backup.read_bytes())
    raw[100] ^= 0xFF
    tampered.write_bytes(bytes(raw))
    (tmp_path / (backup.name + ".manifest.json")).write_text(Path(str(backup) + ".manifest.json").read_text())
    bad = fictra(data, "backup", "verify", str(tampered), env=env)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0
    assert "REFUSED: sha256 mismatch" in bad.stderr

    # the target holds data: --yes needed
    no = fictra(data, "backup", "restore", str(backup), env=env)
    assert no.returncode == 2 and "pass --yes" in no.stderr

    # a platform holds a live lease: refused even with --yes
    until = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=10)
    await execute(
        database_url,
        "INSERT INTO job_leases (job, holder, expires_at, since) "
        "VALUES ('audit.checkpoint', 'other:1', :u, :s)",
        u=until,
        s=until - timedelta(hours=1),
    )
    busy = fictra(data, "backup", "restore", str(backup), "--yes", env=env)
    assert busy.returncode == 2
    assert "in use — job 'audit.checkpoint' is leased by other:1" in busy.stderr

    await execute(database_url, "UPDATE job_leases SET holder = NULL, expires_at = NULL")
    back = fictra(data, "backup", "restore", str(backup), "--yes", env=env)
    assert back.returncode == 0, back.stderr
    assert "audit head size 1" in back.stdout
    audit = fictra(data, "audit", "verify", "--no-anchor", env=env)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "2 entries, 1 checkpoint verified" in audit.stdout  # the backup's entry and the restore's
