"""SQLite: the online backup API (a consistent copy while the platform writes in WAL mode), the
integrity check, and the atomic replacement of a database file."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url

from fictra.errors import StorageError, UsageError


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise UsageError(f"The SQLite URL '{url}' names no database file; backups need a file.")
    return Path(database)


def sidecars(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def online_backup(*, source: Path, target: Path) -> None:
    """Copy ``source`` page by page into the new file ``target`` (readers and writers of ``source`` go
    on; the copy is one consistent snapshot), created 0600."""
    if not source.is_file():
        raise StorageError(f"No SQLite database at '{source}': nothing to back up.")
    os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=1024)
    except sqlite3.Error as exc:
        raise StorageError(f"SQLite backup of '{source}' failed: {exc}.") from None
    finally:
        dst.close()
        src.close()


def seal_file(path: Path) -> None:
    """Make ``path`` one self-contained file: WAL folded in, rollback-journal mode, no sidecars."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()
    for extra in sidecars(path):
        with contextlib.suppress(FileNotFoundError):
            extra.unlink()


def integrity(path: Path) -> str | None:
    """None when ``PRAGMA integrity_check`` says ok, else its first finding."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    first = str(rows[0][0]) if rows else "no result"
    return None if first == "ok" else first


def replace(*, source: Path, target: Path) -> None:
    """Put a copy of the backup ``source`` at ``target`` atomically: copy beside the target, check it,
    fold the target's WAL, rename over it, drop the old sidecars (a stale WAL must never meet the new
    file)."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = target.with_name(f".{target.name}.restore-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()
    try:
        online_backup(source=source, target=temp)
        seal_file(temp)
        problem = integrity(temp)
        if problem is not None:
            raise StorageError(f"The restored copy fails the SQLite integrity check: {problem}.")
        if target.exists():
            with contextlib.suppress(sqlite3.Error):
                seal_file(target)
        os.replace(temp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    for extra in sidecars(target):
        with contextlib.suppress(FileNotFoundError):
            extra.unlink()
