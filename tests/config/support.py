"""Shared by the config tests (no tests here): a config directory holding a minimal network.yaml plus
copies of the shipped files asked for, and the problems a directory loads with."""

from __future__ import annotations

import shutil
from pathlib import Path

from fictra.config.problems import ConfigProblems
from fictra.platform.config_set import load_config_set

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"
NETWORK = "name: devnet\nchain_id: 31337\nendpoints:\n  - {name: local, url: 'http://127.0.0.1:8545'}\n"


def config_dir(path: Path, *shipped: str) -> Path:
    """``path`` with a minimal network.yaml (unless there is one) and the shipped files named."""
    path.mkdir(parents=True, exist_ok=True)
    if not (path / "network.yaml").exists():
        (path / "network.yaml").write_text(NETWORK, encoding="utf-8")
    for name in shipped:
        shutil.copy(REPO_CONFIG / name, path / name)
    return path


def problems_of(path: Path) -> list[str]:
    """Every problem the config set of ``path`` reports ([] when it loads)."""
    try:
        load_config_set(path)
    except ConfigProblems as exc:
        return list(exc.problems)
    return []
