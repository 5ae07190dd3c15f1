"""kill -9 of the platform during catch-up, then a restart: no block skipped, none processed twice, and
no alert occurrence lost or counted twice (alerts and the checkpoint commit in one transaction)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from e2e.harness import devnet_config
from fictra.alerting.models import Alert
from fictra.chain.models import ChainCheckpoint
from fictra.db.engine import make_engine, session_factory
from fictra.devnet.anvil import AnvilNode
from fictra.devnet.chainutil import DevChain
from fictra.devnet.deploy import deploy_system

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DRIVER = Path(__file__).with_name("crash_driver.py")
TRANSFERS = 40  # blocks, each with one large PT transfer (one alert occurrence each)


async def _checkpoint(db_path: Path) -> int:
    """The driver's checkpoint; -1 until its database exists and is migrated."""
    if not db_path.exists():
        return -1
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        async with session_factory(engine)() as session:
            row = await session.scalar(select(ChainCheckpoint.block_number))
            return int(row) if row is not None else -1
    except OperationalError:  # not migrated yet
        return -1
    finally:
        await engine.dispose()


def _alive(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise AssertionError(f"the platform exited with {proc.returncode}: {err[-3000:]}")


def _start(data: Path, config: Path, manifest: Path, first: int) -> subprocess.Popen[bytes]:
    args = [sys.executable, str(DRIVER), str(data), str(config), str(manifest), str(first)]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def test_kill_9_during_catch_up_then_restart(tmp_path: Path) -> None:
    with AnvilNode() as node:
        manifest = await deploy_system(node.rpc_url)
        manifest_path = tmp_path / "manifest.json"
        manifest.save(manifest_path)
        config = devnet_config(tmp_path / "config", [node.rpc_url])
        async with DevChain(node.rpc_url, manifest) as chain:
            first = await chain.head() + 1
            traders = chain.role("traders")
            for i in range(TRANSFERS):  # alternate two senders: two alerts, TRANSFERS occurrences
                sender, receiver = traders[i % 2], traders[1 - i % 2]  # ping-pong: both stay solvent
                await chain.send(sender, "PaymentToken", "transfer", receiver, 51_000 * 10**18)
                await chain.rpc.call("evm_mine", [])  # an empty block between: a longer catch-up
            head = await chain.head()
        data = tmp_path / "data"
        db_path = (data / "fictra.db").resolve()
        db_url = f"sqlite:///{db_path}"

        kills = 0
        for target in (first + (head - first) // 4, first + (head - first) // 2):
            proc = _start(data, config, manifest_path, first)
            try:
                while (done := await _checkpoint(db_path)) < target:
                    _alive(proc)
                    await asyncio.sleep(0.01)
                assert done < head, "caught up before the kill: make the chain longer"
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
            kills += 1

        proc = _start(data, config, manifest_path, first)
        try:
            while await _checkpoint(db_path) < head:
                _alive(proc)
                await asyncio.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)

        engine = make_engine(db_url)
        try:
            async with session_factory(engine)() as session:
                rows = (
                    await session.execute(
                        select(Alert.labels, Alert.count).where(Alert.monitor == "large-pt-transfer")
                    )
                ).all()
                total = await session.scalar(select(func.count()).select_from(Alert))
        finally:
            await engine.dispose()
        assert kills == 2
        assert len(rows) == 2, rows  # one alert per sender: no duplicate alerts
        assert sum(count for _, count in rows) == TRANSFERS  # every occurrence exactly once
        assert total is not None and total >= 2
