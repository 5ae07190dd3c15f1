"""Read-only CLI commands skip Alembic when the SQLite schema is known current (issue 13: CLI start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fictra.cli._schema import CACHE, ensure_schema, fingerprint, is_current

from .clirun import fictra


def test_known_heads_skip_migrate_anything_else_migrates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fictra.db'}"
    assert not is_current(url, tmp_path)  # no database yet
    ensure_schema(url, tmp_path)  # migrates and remembers the heads
    cached = json.loads((tmp_path / CACHE).read_text())
    assert cached["fingerprint"] == fingerprint() and cached["heads"]
    assert is_current(url, tmp_path)
    (tmp_path / CACHE).write_text(json.dumps({**cached, "fingerprint": "other scripts"}))
    assert not is_current(url, tmp_path), "other migration scripts: migrate again"
    ensure_schema(url, tmp_path)
    assert is_current(url, tmp_path)
    assert not is_current("postgresql://h/db", tmp_path), "PostgreSQL always takes the real migrate"


def test_alerts_list_on_a_current_database_imports_neither_alembic_nor_every_model(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = fictra(data, "alerts", "list")  # creates and migrates the database
    assert first.returncode == 0, first.stderr
    probe = (
        "import sys; from fictra.cli import main; sys.argv = ['fictra', 'alerts', 'list']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = ('alembic', 'fictra.db.models', 'fictra.support.models')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    env = {**os.environ, "FICTRA_DATA_DIR": str(data)}
    env.pop("FICTRA_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
