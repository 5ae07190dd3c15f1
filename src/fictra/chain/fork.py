"""A throw-away Anvil fork of a chain, for simulations (``anvil --fork-url <rpc> --fork-block-number <n>``).

:func:`anvil_fork` is an async context manager: it starts Anvil on a free 127.0.0.1 port forking the
given RPC URL at one block, waits until the fork answers, yields an :class:`~fictra.chain.rpc.RpcClient`
on it, and stops the process on the way out (also when the body fails). Nothing is ever sent to the
forked chain itself. The binary is found like the devnet's (``$FICTRA_ANVIL``, ``node_modules`` above
the working directory or this package, then ``PATH``); this module is the minimal, generic launcher the
domains may use (they cannot import :mod:`fictra.devnet`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fictra.chain.rpc import RpcClient
from fictra.errors import ChainError, RpcError, redact_url

__all__ = ["ForkStarter", "anvil_fork", "find_anvil_binary"]

_RELATIVE = Path("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")

# (fork_url, block) -> async context manager yielding an RPC client on the fork
ForkStarter = Callable[[str, int], AbstractAsyncContextManager[RpcClient]]


def find_anvil_binary() -> Path:
    env = os.environ.get("FICTRA_ANVIL")
    if env:
        path = Path(env)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise ChainError(f"FICTRA_ANVIL is '{env}', which is not an executable file.")
    for start in (Path.cwd(), Path(__file__).resolve()):
        for parent in [start, *start.parents]:
            if (parent / _RELATIVE).is_file():
                return parent / _RELATIVE
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise ChainError(
        "Anvil is not installed, so a fork cannot be started. Run `make setup` (npm ci installs "
        "@foundry-rs/anvil-linux-amd64), or set FICTRA_ANVIL to an anvil binary."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def anvil_fork(fork_url: str, block: int, *, wait_s: float = 20.0) -> AsyncIterator[RpcClient]:
    """An Anvil fork of ``fork_url`` at ``block`` on a free loopback port (see the module docstring)."""
    binary = find_anvil_binary()
    port = _free_port()
    cmd = [
        str(binary),
        "--host", "127.0.0.1",
        "--port", str(port),
        "--fork-url", fork_url,
        "--fork-block-number", str(block),
        "--no-storage-caching",
        "--silent",
    ]  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    client = RpcClient(url=f"http://127.0.0.1:{port}", timeout=30.0)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while True:
            if proc.returncode is not None:
                raise ChainError(
                    f"Anvil exited with code {proc.returncode} while forking {redact_url(fork_url)} at "
                    f"block {block}. Check that the RPC endpoint answers and keeps that block."
                )
            try:
                await client.call("eth_chainId")
                break
            except RpcError:
                if loop.time() > deadline:
                    raise ChainError(
                        f"The Anvil fork of {redact_url(fork_url)} at block {block} did not answer "
                        f"within {wait_s:.0f}s."
                    ) from None
                await asyncio.sleep(0.05)
        yield client
    finally:
        await client.aclose()
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), timeout=5)
            except TimeoutError:
                proc.kill()
                await proc.wait()
