"""Engine construction and migrations.

``sqlite:///path`` and ``postgresql://...`` URLs are accepted as users write them; the async driver
(aiosqlite / psycopg) is chosen here. SQLite runs in WAL mode with a busy timeout so the API, the
follower and the CLI can share one file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from fictra.errors import ConfigError, StorageError, redact_url

MIGRATIONS = Path(__file__).parent / "migrations"


def _driver_urls(url: str) -> tuple[str, str]:
    """Return (async_url, sync_url) for a user-facing database URL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"Config 'database_url' has value '{redact_url(url)}'. Not a database URL; "
            "use sqlite:///path/to/file.db or postgresql://user@host:5432/db."
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return (
            str(parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)),
            str(parsed.set(drivername="sqlite").render_as_string(hide_password=False)),
        )
    if backend == "postgresql":
        pg = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        return pg, pg
    raise ConfigError(
        f"Config 'database_url' names backend '{backend}'. Only sqlite and postgresql are supported."
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _private_sqlite_file(db_path: str | None) -> None:
    """The SQLite file is created 0600 in a 0700 directory (SQLite gives its -wal and -shm files the
    database file's mode); an existing one of ours is tightened to 0600."""
    if not db_path or db_path == ":memory:" or db_path.startswith("file:"):
        return
    path = Path(db_path)
    if not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.stat().st_uid == os.getuid() and file.stat().st_mode & 0o077:
                file.chmod(0o600)
        except FileNotFoundError:
            continue


def make_engine(url: str) -> AsyncEngine:
    async_url, _ = _driver_urls(url)
    if async_url.startswith("sqlite"):
        _private_sqlite_file(make_url(async_url).database)
    engine = create_async_engine(async_url, pool_pre_ping=not async_url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def migrate(url: str, revision: str = "heads") -> None:
    """Bring the schema up to ``revision`` (default: every head). Safe to call at every start."""
    _, sync_url = _driver_urls(url)
    if sync_url.startswith("sqlite"):
        _private_sqlite_file(make_url(sync_url).database)
    from alembic import command  # imported here: a command that only reads never pays for Alembic
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["sync_url"] = sync_url
    try:
        command.upgrade(cfg, revision)
    except OperationalError as exc:
        raise StorageError(
            f"Cannot reach the database at '{redact_url(url)}': {exc.orig}. "
            "Check FICTRA_DATABASE_URL and that the server is running."
        ) from None


def sync_engine_for(url: str) -> Any:
    """A plain sync engine (Alembic, one-off scripts). Product code uses :func:`make_engine`."""
    _, sync_url = _driver_urls(url)
    engine = create_engine(sync_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine
