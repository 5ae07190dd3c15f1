"""Make a backup: the file (SQLite online backup or ``pg_dump``), the manifest beside it, retention.

The manifest's snapshot is read from exactly the state the file holds: from the SQLite copy itself,
or (PostgreSQL) in the transaction whose exported snapshot ``pg_dump --snapshot`` dumps.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import record
from fictra.backup import postgres, sqlite
from fictra.backup.manifest import SUFFIX, Manifest, Snapshot, manifest_path, sha256_of, write_manifest
from fictra.backup.snapshot import take
from fictra.clock import Clock
from fictra.db.engine import make_engine, session_factory
from fictra.errors import ConfigError

PREFIX = "fictra-"
EXTENSIONS = {"sqlite": ".sqlite", "postgresql": ".pgdump"}
DEFAULT_KEEP = 14


@dataclass(frozen=True)
class Created:
    backup: Path
    manifest: Path
    data: Manifest
    removed: list[Path]


def kind_of(url: str) -> str:
    if url.startswith("sqlite"):
        return "sqlite"
    if url.startswith("postgresql"):
        return "postgresql"
    raise ConfigError(
        f"Cannot back up database URL scheme '{url.split(':', 1)[0]}': sqlite or postgresql only."
    )


def backups_dir(out: Path) -> Path:
    """``out`` created 0700 (tightened when it exists and is ours)."""
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    if out.stat().st_uid == os.getuid() and out.stat().st_mode & 0o077:
        out.chmod(0o700)
    return out


def list_backups(out: Path) -> list[Path]:
    """The backup files in ``out`` that have a manifest, oldest first (names sort by creation time)."""
    if not out.is_dir():
        return []
    found = [
        p
        for p in out.iterdir()
        if p.name.startswith(PREFIX) and p.suffix in EXTENSIONS.values() and manifest_path(p).is_file()
    ]
    return sorted(found, key=lambda p: p.name)


def prune(out: Path, *, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest backups (file and manifest); return the files deleted."""
    if keep < 1:
        raise ConfigError(f"Backup retention keep={keep}: keep at least 1 backup.")
    old = list_backups(out)[:-keep]
    for path in old:
        for file in (path, manifest_path(path)):
            with contextlib.suppress(FileNotFoundError):
                file.unlink()
    return old


async def _sqlite_backup(url: str, target: Path) -> Snapshot:
    partial = target.with_name(target.name + ".partial")
    try:
        sqlite.online_backup(source=sqlite.sqlite_path(url), target=partial)
        engine = make_engine(f"sqlite:///{partial}")
        try:
            async with session_factory(engine)() as session:
                snap = await take(session)
        finally:
            await engine.dispose()
        sqlite.seal_file(partial)
        os.replace(partial, target)
    finally:
        for file in (partial, *sqlite.sidecars(partial)):
            with contextlib.suppress(FileNotFoundError):
                file.unlink()
    return snap


async def _postgres_backup(url: str, target: Path) -> Snapshot:
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="REPEATABLE READ")
            async with conn.begin():
                exported = (await conn.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
                session = AsyncSession(bind=conn)
                snap = await take(session)
                await asyncio.to_thread(postgres.dump, url=url, target=target, snapshot=str(exported))
    finally:
        await engine.dispose()
    return snap


async def create_backup(
    *, database_url: str, out: Path, clock: Clock, keep: int = DEFAULT_KEEP, actor: str = "system"
) -> Created:
    """Back up ``database_url`` into ``out`` (0700; files 0600), write the manifest, keep the ``keep``
    newest backups, and record ``backup.create`` in the source's audit log (after the copy: the backup
    does not hold its own record)."""
    if keep < 1:
        raise ConfigError(f"Backup retention keep={keep}: keep at least 1 backup.")
    kind = kind_of(database_url)
    out = backups_dir(out)
    now = clock.now()
    stamp = now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"
    target = out / f"{PREFIX}{stamp}{EXTENSIONS[kind]}"
    if target.exists() or (out / (target.name + SUFFIX)).exists():
        raise ConfigError(f"A backup named '{target.name}' exists already in '{out}'.")
    if kind == "sqlite":
        snap = await _sqlite_backup(database_url, target)
    else:
        snap = await _postgres_backup(database_url, target)
    target.chmod(0o600)
    data = Manifest(
        file=target.name,
        sha256=sha256_of(target),
        size=target.stat().st_size,
        database=kind,
        created_at=now.isoformat(),
        snapshot=snap,
        pg_schema=postgres.schema_of(database_url) if kind == "postgresql" else None,
    )
    written = write_manifest(target, data)
    removed = prune(out, keep=keep)
    engine = make_engine(database_url)
    try:
        async with session_factory(engine).begin() as session:
            await record(
                session,
                actor=actor,
                action="backup.create",
                target=f"backup:{target.name}",
                after={
                    "sha256": data.sha256,
                    "audit_size": snap.audit_head.size,
                    "removed": [p.name for p in removed],
                },
                clock=clock,
            )
    finally:
        await engine.dispose()
    return Created(backup=target, manifest=written, data=data, removed=removed)
