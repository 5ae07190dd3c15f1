"""A real server process for the hostile-input tests (a crash must be visible as a dead process)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from fictra.devnet.anvil import free_port

HERE = Path(__file__).resolve().parent
CONFIG_DIR = HERE.parents[1] / "config"


def config_copy(target: Path) -> Path:
    """A copy of the repo's config-as-code (the app loads it at start)."""
    shutil.copytree(CONFIG_DIR, target)
    return target


@dataclass
class Server:
    base_url: str
    process: subprocess.Popen[bytes]

    def alive(self) -> bool:
        return self.process.poll() is None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    config_dir = config_copy(tmp_path / "config")
    port = free_port()
    url = f"sqlite:///{tmp_path / 'fictra.db'}"
    process = subprocess.Popen(
        [sys.executable, str(HERE / "serve_app.py"), url, str(port), str(config_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            if process.poll() is not None:
                err = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"the server exited with {process.returncode}: {err[-2000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the server did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield Server(base, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
