"""Run `fictra ...` as a user does: a subprocess with its own data dir, real exit codes and streams."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = "import sys; from fictra.cli import main; sys.argv[0] = 'fictra'; main()"


def fictra(data_dir: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FICTRA_DATA_DIR": str(data_dir), "COLUMNS": "200"}
    env.pop("FICTRA_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-c", CLI, *args], env=env, capture_output=True, text=True, timeout=120, cwd=cwd
    )
