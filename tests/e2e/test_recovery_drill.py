"""Alternate-site drill: the platform (a real subprocess) follows a devnet with alerts; a backup is taken
while it runs; it is killed with SIGKILL; the latest backup is restored into a NEW data directory and a
second instance started from it takes over: it resumes from the restored checkpoint, with no block gap
and no block processed twice (every alert occurrence counted exactly once, as in an uninterrupted run).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from e2e.harness import devnet_config
from e2e.test_crash import _alive, _checkpoint, _start
from fictra.alerting.models import Alert
from fictra.backup.create import create_backup, list_backups
from fictra.backup.restore import restore_backup
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, session_factory
from fictra.devnet.anvil import AnvilNode
from fictra.devnet.chainutil import DevChain
from fictra.devnet.deploy import deploy_system

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TRANSFERS = 40


async def _occurrences(db_path: Path) -> list[tuple[dict[str, str], int]]:
    engine = make_engine(f"sqlite:///{db_path}")
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(Alert.labels, Alert.count).where(Alert.monitor == "large-pt-transfer")
            )
            return [(dict(labels), int(count)) for labels, count in rows.all()]
    finally:
        await engine.dispose()


async def drill(tmp_path: Path) -> dict[str, float]:
    """Run the drill; returns its figures (time to takeover, blocks redone by the second site)."""
    with AnvilNode() as node:
        manifest = await deploy_system(node.rpc_url)
        manifest_path = tmp_path / "manifest.json"
        manifest.save(manifest_path)
        config = devnet_config(tmp_path / "config", [node.rpc_url])
        async with DevChain(node.rpc_url, manifest) as chain:
            first = await chain.head() + 1
            traders = chain.role("traders")
            for i in range(TRANSFERS):
                sender, receiver = traders[i % 2], traders[1 - i % 2]
                await chain.send(sender, "PaymentToken", "transfer", receiver, 51_000 * 10**18)
                await chain.rpc.call("evm_mine", [])
            head = await chain.head()
        site_a, site_b = tmp_path / "site-a", tmp_path / "site-b"
        db_a, db_b = (site_a / "fictra.db").resolve(), (site_b / "fictra.db").resolve()
        proc = _start(site_a, config, manifest_path, first)
        try:
            while await _checkpoint(db_a) < first + (head - first) // 3:
                _alive(proc)
                await asyncio.sleep(0.01)
            created = await create_backup(
                database_url=f"sqlite:///{db_a}", out=site_a / "backups", clock=SystemClock()
            )
            while await _checkpoint(db_a) < first + 2 * (head - first) // 3:
                _alive(proc)
                await asyncio.sleep(0.01)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        killed_at = time.perf_counter()
        dead_checkpoint = await _checkpoint(db_a)
        latest = list_backups(site_a / "backups")[-1]
        assert latest.name == created.backup.name
        site_b.mkdir(mode=0o700)
        await restore_backup(backup=latest, into=f"sqlite:///{db_b}", clock=SystemClock(), data_dir=site_b)
        restored = await _checkpoint(db_b)
        assert first <= restored < dead_checkpoint  # the backup is older than the crash
        proc = _start(site_b, config, manifest_path, first)
        try:
            while await _checkpoint(db_b) < head:
                _alive(proc)
                await asyncio.sleep(0.02)
            takeover = time.perf_counter() - killed_at
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        rows = await _occurrences(db_b)
        assert len(rows) == 2, rows  # one alert per sender, as in an uninterrupted run
        assert sum(count for _, count in rows) == TRANSFERS  # every block once: no gap, nothing twice
        return {
            "takeover_s": round(takeover, 3),
            "restored_checkpoint": restored,
            "killed_at_checkpoint": dead_checkpoint,
            "blocks_redone": dead_checkpoint - restored,
            "head": head,
        }


async def test_restore_into_a_new_site_takes_over_without_gap_or_duplicate(tmp_path: Path) -> None:
    figures = await drill(tmp_path)
    assert figures["blocks_redone"] > 0
