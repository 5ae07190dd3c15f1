"""Wiring into the platform: `fictra up` refuses a bad response config before touching anything (the stage
list itself is tested in tests/fictra_platform/test_stages.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from fictra.devnet.anvil import free_port

REPO = Path(__file__).resolve().parents[2]


def test_up_refuses_bad_escalation_yaml_and_writes_nothing(tmp_path: Path) -> None:
    shutil.copytree(REPO / "config", tmp_path / "config")
    (tmp_path / "config" / "escalation.yaml").write_text("policies:\n  - name: p\n    levels: []\n")
    env = {
        **os.environ,
        "FICTRA_DATA_DIR": str(tmp_path / "data"),
        "FICTRA_CONFIG_DIR": str(tmp_path / "config"),
        "FICTRA_HTTP_PORT": str(free_port()),
    }
    result = subprocess.run(
        [sys.executable, "-m", "fictra.cli", "up", "--no-view", "--no-devnet", "--duration", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "escalation.yaml:policies.0.levels:" in result.stderr
    assert not (tmp_path / "data").exists()
