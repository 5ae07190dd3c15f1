"""Run `fictra ...` as a user does: a subprocess with its own data dir, real exit codes and streams."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = "import sys; from fictra.cli import main; sys.argv[0] = 'fictra'; main()"


def fictra(
    data_dir: Path, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("FICTRA_DATABASE_URL", "FICTRA_CONFIG_DIR")}
    env = {**base, "FICTRA_DATA_DIR": str(data_dir), "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", CLI, *args], env=env, capture_output=True, text=True, timeout=120, cwd=cwd
    )
