"""A cheap "is the schema current?" for read-only CLI commands (`fictra alerts list`), so they start at once.

:func:`fictra.db.engine.migrate` imports Alembic and every domain's models (~0.7 s) even when there is
nothing to do. Here the migration scripts are fingerprinted (names, sizes and modification times: a
directory listing) and the heads they define are remembered next to the database
(``<data_dir>/.schema-heads.json``) after a real migrate. A SQLite database whose ``alembic_version`` rows
are exactly those heads is current: no Alembic, no models. Anything else (another fingerprint, other rows,
no version table, a PostgreSQL URL) runs the real migrate, which also refreshes the remembered heads.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import fictra.db

VERSIONS = Path(fictra.db.__file__).parent / "migrations" / "versions"
CACHE = ".schema-heads.json"


def fingerprint() -> str:
    digest = hashlib.sha256()
    for entry in sorted(VERSIONS.glob("*.py")):
        stat = entry.stat()
        digest.update(f"{entry.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


def _sqlite_path(url: str) -> Path | None:
    for prefix in ("sqlite:///", "sqlite+aiosqlite:///"):
        if url.startswith(prefix):
            rest = url[len(prefix) :].split("?", 1)[0]
            return Path(rest) if rest and rest != ":memory:" else None
    return None


def is_current(url: str, data_dir: Path) -> bool:
    """True when the database at ``url`` is known to be at the scripts' heads (SQLite only)."""
    path = _sqlite_path(url)
    if path is None or not path.is_file():
        return False
    try:
        cached = json.loads((data_dir / CACHE).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(cached, dict) or cached.get("fingerprint") != fingerprint():
        return False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            rows = {str(r[0]) for r in conn.execute("SELECT version_num FROM alembic_version")}
    except sqlite3.Error:
        return False
    return bool(rows) and rows == set(cached.get("heads") or [])


def ensure_schema(url: str, data_dir: Path) -> None:
    """Migrate unless the database is known to be current; remember the heads after migrating."""
    if is_current(url, data_dir):
        return
    from alembic.script import ScriptDirectory

    from fictra.db.engine import MIGRATIONS, migrate

    migrate(url)
    if _sqlite_path(url) is None:
        return
    heads = sorted(ScriptDirectory(str(MIGRATIONS)).get_heads())
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        (data_dir / CACHE).write_text(json.dumps({"fingerprint": fingerprint(), "heads": heads}))
    except OSError:
        pass  # only a cache: the next command migrates (a no-op) again
