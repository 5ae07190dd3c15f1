"""What the benchmark modules share: the machine's load, best-of-N alternation, optional references
(installed when missing, or skipped with the reason)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

CACHE = Path(os.environ.get("FICTRA_BENCH_CACHE", Path.home() / ".cache" / "fictra-bench"))


def machine() -> dict[str, Any]:
    """The load when a figure was taken: the machine is shared, read every figure with this."""
    one, five, fifteen = os.getloadavg()
    return {
        "load_1m": round(one, 2),
        "load_5m": round(five, 2),
        "load_15m": round(fifteen, 2),
        "cpus": os.cpu_count(),
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def apt_binary(binary: str, package: str) -> tuple[str | None, str]:
    """Path of ``binary``; installs Debian's ``package`` when missing. (None, reason) when impossible."""
    found = shutil.which(binary)
    if found:
        return found, ""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, f"{binary} missing and cannot apt-get install {package} (not root or no apt)"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-q"], capture_output=True, timeout=600, check=False, env=env)
    done = subprocess.run(
        ["apt-get", "install", "-y", "-q", package],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    found = shutil.which(binary)
    return (found, "") if found else (None, f"apt-get install {package} failed: {done.stderr.strip()[-300:]}")


def pip_venv(name: str, requirement: str, probe: str) -> tuple[str | None, str]:
    """A Python in a venv of its own with ``requirement`` installed (kept in the bench cache)."""
    venv = CACHE / f"{name}-venv"
    python = venv / "bin" / "python"
    check = [str(python), "-c", probe]
    if python.exists() and subprocess.run(check, capture_output=True, check=False).returncode == 0:
        return str(python), ""
    CACHE.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, check=False
    )
    if made.returncode != 0:
        return None, f"cannot create a venv for {requirement}: {made.stderr.strip()[-300:]}"
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", requirement],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0 or subprocess.run(check, capture_output=True, check=False).returncode != 0:
        return None, f"pip install {requirement} failed: {(done.stderr or done.stdout).strip()[-300:]}"
    return str(python), ""


def wait_port(port: int, *, timeout: float = 60.0) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
