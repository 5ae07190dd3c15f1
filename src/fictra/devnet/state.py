"""Where the running devnet is recorded: ``<data_dir>/devnet/{state,manifest,scenarios}.json``, ``anvil.log``.

``state.json`` holds the detached Anvil's pid, port, RPC URL, block time and start time, so that
``fictra devnet status`` / ``down`` / ``deploy`` / ``simulate`` / ``scenario`` find the node that
``fictra devnet up`` started in an earlier process. A state file whose process is gone (the machine
rebooted, someone killed Anvil) is *stale*: :func:`load_state` removes it and says so.
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from fictra.errors import DevnetError


@dataclass(frozen=True)
class DevnetPaths:
    root: Path

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def log(self) -> Path:
        return self.root / "anvil.log"

    @property
    def scenarios(self) -> Path:
        return self.root / "scenarios.json"


@dataclass(frozen=True)
class DevnetState:
    pid: int
    port: int
    rpc_url: str
    chain_id: int
    block_time: int  # seconds between blocks (interval mining); 0 = automine
    started_at: str  # ISO-8601 UTC

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def write_json_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".json")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def save_state(paths: DevnetPaths, state: DevnetState) -> None:
    write_json_atomic(paths.state, state.to_json())


def read_state(paths: DevnetPaths) -> DevnetState | None:
    """The recorded state, or None when there is none; a corrupt file is a clear error."""
    try:
        raw = json.loads(paths.state.read_text())
        return DevnetState(**raw)
    except FileNotFoundError:
        return None
    except (json.JSONDecodeError, TypeError) as exc:
        raise DevnetError(
            f"Devnet state file '{paths.state}' is unreadable ({exc}). Delete it and run `fictra devnet up`."
        ) from None


def process_alive(pid: int, *, port: int | None = None) -> bool:
    """True while ``pid`` runs (not a zombie). With ``port``: and is the Anvil serving that port (its
    command line has ``--port <port>``), so a recycled pid of another program does not count."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return True  # no procfs: trust the signal probe
    try:
        status_char = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes()
    except OSError:
        return False
    if status_char in ("Z", "X"):
        _reap(pid)
        return False
    return port is None or f"\0--port\0{port}\0".encode() in cmdline


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def clear(paths: DevnetPaths, *, keep_manifest: bool = False) -> None:
    """Forget the devnet: state, scenarios in force and (unless kept) the manifest. The log stays."""
    files = [paths.state, paths.scenarios] + ([] if keep_manifest else [paths.manifest])
    for path in files:
        path.unlink(missing_ok=True)


def load_state(paths: DevnetPaths) -> tuple[DevnetState | None, str | None]:
    """The state of a *running* devnet, and a note when a stale state file was cleaned up."""
    state = read_state(paths)
    if state is None:
        return None, None
    if process_alive(state.pid, port=state.port):
        return state, None
    clear(paths)
    return None, (
        f"note: removed a stale devnet state file (Anvil pid {state.pid} on port {state.port} is no longer "
        "running)."
    )


def terminate(pid: int, *, wait_s: float = 5.0) -> None:
    """Stop an Anvil by pid: SIGCONT (it may be SIGSTOPped by node-down), SIGTERM, then SIGKILL."""
    import time

    for sig in (signal.SIGCONT, signal.SIGTERM):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        _reap(pid)
        if not process_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    _reap(pid)
