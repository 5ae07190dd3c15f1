"""`fictra backup` commands: create a backup with its manifest, verify one by restoring it into a
scratch database, restore one into the platform's database (refused while a platform uses it).

``fictra backup verify`` exits 0 when the backup verifies and 2 with one line naming the reason when it
is refused (changed file, failed integrity check, row counts, audit chain, seals or signatures).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import typer

from fictra.cli._common import settings
from fictra.clock import SystemClock

app = typer.Typer(help="Backups: create, verify (a restore drill), restore.", no_args_is_help=True)


@app.command("create")
def create_cmd(
    out: Path | None = typer.Option(
        None, "--out", help="Directory for the backup (default <data_dir>/backups)."
    ),
    keep: int = typer.Option(14, "--keep", min=1, help="Keep this many newest backups in the directory."),
) -> None:
    """Back the database up (SQLite online backup, or pg_dump -Fc) with a manifest beside it: sha256, row
    counts per table, audit head and latest signed checkpoint, schema revisions."""
    from fictra.backup.create import create_backup
    from fictra.db.engine import migrate

    s = settings()
    url = s.resolved_database_url()
    migrate(url)
    made = asyncio.run(
        create_backup(
            database_url=url, out=out or s.data_dir / "backups", clock=SystemClock(), keep=keep, actor="cli"
        )
    )
    head = made.data.snapshot.audit_head
    typer.echo(f"backup {made.backup}")
    typer.echo(f"  sha256 {made.data.sha256}, {made.data.size} bytes, audit head size {head.size}")
    typer.echo(f"  manifest {made.manifest}")
    for old in made.removed:
        typer.echo(f"  removed old backup {old.name} (keep {keep})")


@app.command("verify")
def verify_cmd(
    backup: Path = typer.Argument(..., help="The backup file (or its .manifest.json)."),
    server: str | None = typer.Option(
        None, "--server", help="PostgreSQL URL of the server to verify a dump on (default: the platform's)."
    ),
) -> None:
    """Check the sha256, restore into a scratch database, check its integrity, row counts, audit head,
    hash chain, seals and signed checkpoints. Exit 2 with the reason when refused."""
    from fictra.backup.verify import BackupRefused, verify_backup

    s = settings()
    result = asyncio.run(
        verify_backup(backup=backup, data_dir=s.data_dir, database_url=server or s.resolved_database_url())
    )
    if not result.ok:
        raise BackupRefused(result.summary())
    typer.echo(result.summary())
    for note in result.notes:
        typer.echo(f"  note: {note}")


@app.command("restore")
def restore_cmd(
    backup: Path = typer.Argument(..., help="The backup file (or its .manifest.json)."),
    into: str | None = typer.Option(None, "--into", help="Target database URL (default: the platform's)."),
    yes: bool = typer.Option(False, "--yes", help="Replace a target database that holds data."),
    window: int = typer.Option(
        120, "--window", min=1, help="A follower checkpoint newer than this many seconds means 'in use'."
    ),
) -> None:
    """Restore a backup (atomically) into the database; refused while a platform uses it (a live job lease
    or a fresh follower checkpoint) and, without --yes, when the target holds data."""
    from fictra.backup.restore import restore_backup

    s = settings()
    target = into or s.resolved_database_url()
    done = asyncio.run(
        restore_backup(
            backup=backup,
            into=target,
            clock=SystemClock(),
            yes=yes,
            window=timedelta(seconds=window),
            data_dir=s.data_dir,
            actor="cli",
        )
    )
    head = done.manifest.snapshot.audit_head
    typer.echo(
        f"restored {backup.name} ({done.manifest.database}, audit head size {head.size}); "
        "recorded in the audit log"
    )
