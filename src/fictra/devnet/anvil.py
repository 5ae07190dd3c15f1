"""Start and stop an Anvil node (from npm ``@foundry-rs/anvil-linux-amd64``) on 127.0.0.1.

:class:`AnvilNode` is the one way the platform and its tests launch Anvil. It picks a free port when
asked for port 0, waits until the node answers JSON-RPC, and on any failure stops the process it
started so nothing is left half-running.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from fictra.devnet.accounts import ACCOUNT_COUNT, DEVNET_MNEMONIC
from fictra.errors import DevnetError

ANVIL_RELATIVE = Path("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
DEFAULT_CHAIN_ID = 31337


def find_anvil() -> Path:
    """Locate the Anvil binary: $FICTRA_ANVIL, then node_modules above the cwd or this package."""
    env = os.environ.get("FICTRA_ANVIL")
    if env:
        path = Path(env)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise DevnetError(f"FICTRA_ANVIL is '{env}', which is not an executable file.")
    starts = [Path.cwd(), Path(__file__).resolve()]
    for start in starts:
        for parent in [start, *start.parents]:
            candidate = parent / ANVIL_RELATIVE
            if candidate.is_file():
                return candidate
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise DevnetError(
        "Anvil is not installed. Run `make setup` (it runs `npm ci`, which installs "
        "@foundry-rs/anvil-linux-amd64), or set FICTRA_ANVIL to an anvil binary."
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def rpc_call(url: str, method: str, params: list[object] | None = None, timeout: float = 2.0) -> object:
    """A minimal synchronous JSON-RPC call (start-up probes and scripts; the platform uses chain.rpc)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - loopback URL we built
        payload = json.loads(resp.read())
    if "error" in payload:
        raise DevnetError(f"{method} failed: {payload['error'].get('message', payload['error'])}")
    return payload["result"]


@dataclass
class AnvilNode:
    """One Anvil process. ``block_time`` None means automine (a block per transaction)."""

    port: int = 0
    host: str = "127.0.0.1"
    chain_id: int = DEFAULT_CHAIN_ID
    block_time: float | None = None
    accounts: int = ACCOUNT_COUNT
    balance_eth: int = 1_000_000
    gas_limit: int = 30_000_000
    extra_args: list[str] = field(default_factory=list)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def rpc_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def command(self, binary: Path) -> list[str]:
        cmd = [
            str(binary),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--chain-id",
            str(self.chain_id),
            "--mnemonic",
            DEVNET_MNEMONIC,
            "--accounts",
            str(self.accounts),
            "--balance",
            str(self.balance_eth),
            "--gas-limit",
            str(self.gas_limit),
            "--silent",
        ]
        if self.block_time is not None:
            cmd += ["--block-time", str(self.block_time)]
        return cmd + self.extra_args

    def start(self, timeout: float = 20.0) -> AnvilNode:
        binary = find_anvil()
        if self.port == 0:
            self.port = free_port(self.host)
        elif port_in_use(self.port, self.host):
            raise DevnetError(
                f"Port {self.port} on {self.host} is already in use. Stop what uses it, or pick "
                "another port with --port (0 picks a free one)."
            )
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(
                self.command(binary),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            if self.log_path:
                log.close()  # type: ignore[union-attr]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DevnetError(
                    f"Anvil exited at start-up with code {self.process.returncode}"
                    + (f"; see {self.log_path}." if self.log_path else ".")
                )
            try:
                rpc_call(self.rpc_url, "eth_chainId", timeout=0.5)
                return self
            except (OSError, urllib.error.URLError, DevnetError):
                time.sleep(0.05)
        self.stop()
        raise DevnetError(f"Anvil did not answer on {self.rpc_url} within {timeout:.0f}s.")

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
