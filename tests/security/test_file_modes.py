"""The data directory is 0700 and what is in it 0600: the database (and its WAL/SHM), the keys, the
log, whatever a command creates — from a fresh directory and tightened on an old one."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from fictra.db.engine import make_engine, migrate
from fictra.settings import secure_data_dir

CLI = "import sys; from fictra.cli import main; sys.argv[0] = 'fictra'; main()"


def _modes(root: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[str(path.relative_to(root))] = stat.S_IMODE(path.stat().st_mode)
    return found


def test_a_fresh_data_dir_and_its_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FICTRA_")}
    env["FICTRA_DATA_DIR"] = str(data)
    done = subprocess.run(  # a command that migrates the database, creates the audit key and writes
        [sys.executable, "-c", CLI, "audit", "checkpoint"],
        env=env, capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(0o022),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    modes = _modes(data)
    assert {"fictra.db", "keys/audit-signing.json", "keys/audit-signing.pass"} <= set(modes)
    loose = {name: oct(mode) for name, mode in modes.items() if mode & 0o077}
    assert not loose, loose
    assert modes["."] == 0o700 and modes["keys"] == 0o700 and modes["fictra.db"] == 0o600


def test_sqlite_wal_and_shm_follow_the_database(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        url = f"sqlite:///{tmp_path / 'sub' / 'f.db'}"
        migrate(url)

        async def write() -> None:
            engine = make_engine(url)
            async with engine.begin() as conn:
                await conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
                await conn.execute(text("INSERT INTO t VALUES (1)"))
                modes = _modes(tmp_path / "sub")
            await engine.dispose()
            assert {"f.db", "f.db-wal", "f.db-shm"} <= set(modes), modes
            assert all(m == 0o600 for n, m in modes.items() if n != "."), modes
            assert modes["."] == 0o700

        asyncio.run(write())
    finally:
        os.umask(old)


def test_an_old_world_readable_data_dir_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    os.chmod(data, 0o755)
    for name in ("fictra.db", "fictra.log"):
        (data / name).write_text("")
        os.chmod(data / name, 0o644)
    secure_data_dir(data)
    assert _modes(data) == {".": 0o700, "fictra.db": 0o600, "fictra.log": 0o600}
