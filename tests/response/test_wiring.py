"""Wiring into the platform: `fictra up` refuses a bad response config before touching anything; attach
chains the stages after an existing on_changes hook and registers the SLA counter."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import FakeClock
from fictra.devnet.anvil import free_port
from fictra.metrics import Metrics, new_registry
from fictra.monitors.base import MonitorOutput
from fictra.monitors.pipeline import AlertPipeline
from fictra.platform.config_set import load_config_set
from fictra.response.wiring import attach

from .helpers import finding, make_config

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


@dataclass
class _Platform:
    """The parts of fictra.platform.assemble.Platform that attach uses."""

    config: object
    clock: FakeClock
    metrics: Metrics
    pipeline: AlertPipeline
    sessions: async_sessionmaker[AsyncSession]


async def test_attach_chains_after_an_existing_hook(sessions, clock) -> None:
    seen: list[int] = []

    async def earlier(changes, session) -> None:
        seen.extend(c.alert_id for c in changes)

    pipeline = AlertPipeline(monitors=[], clock=clock, on_changes=earlier)
    platform = _Platform(load_config_set(REPO / "config"), clock, new_registry(), pipeline, sessions)
    ctx, task = attach(platform, link_base="http://ops.example", config=make_config())  # type: ignore[arg-type]
    assert platform.response is ctx and callable(task)  # type: ignore[attr-defined]
    async with sessions.begin() as session:
        await pipeline.ingest(session, MonitorOutput(findings=[finding()]), network="devnet", head=None)
    assert len(seen) == 1
    async with sessions() as session:
        from fictra.response.queries import response_of

        view = await response_of(session, ctx, alert_id=seen[0])
    assert view.level_name == "first_level_support"
    assert (
        platform.metrics.registry.get_sample_value(
            "fictra_sla_breaches_total", {"severity": "P0", "team": "operations", "kind": "acknowledge"}
        )
        is None
    )  # registered, nothing breached yet
