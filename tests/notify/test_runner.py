"""The outbox built from receivers.yaml (as the platform's notify.outbox job runs it), and receivers.yaml's
refusals."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import FakeClock
from fictra.errors import ConfigError
from fictra.metrics import new_registry
from fictra.notify.config import load_receivers
from fictra.notify.metrics import OutboxMetrics
from fictra.notify.models import Notification, NotificationStatus
from fictra.notify.worker import Outbox

from .helpers import put

REPO = Path(__file__).resolve().parents[2]


def build_outbox(config_dir: Path, sessions=None, clock=None, metrics=None) -> Outbox:  # type: ignore[no-untyped-def]
    return Outbox(
        sessions=sessions,
        config=load_receivers(config_dir / "receivers.yaml"),
        clock=clock or FakeClock(),
        base_dir=config_dir,
        metrics=OutboxMetrics(metrics.registry) if metrics is not None else None,
    )


async def test_the_shipped_receivers_yaml_delivers_to_the_log(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    shutil.copy(REPO / "config" / "receivers.yaml", tmp_path / "receivers.yaml")
    await put(sessions, clock, "k", receiver="ops-log", channel="log", alert_id=9)
    stop = asyncio.Event()
    metrics = new_registry()
    task = asyncio.create_task(
        build_outbox(tmp_path, sessions=sessions, clock=clock, metrics=metrics).run(stop)
    )
    for _ in range(500):
        async with sessions() as s:
            row = await s.scalar(select(Notification))
        if row is not None and row.status == NotificationStatus.DELIVERED:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert row is not None and row.status == NotificationStatus.DELIVERED
    assert "[P0 FIRING] Reserve ratio below floor http://127.0.0.1:8000/alerts/9" in caplog.text
    labels = {"receiver": "ops-log", "channel": "log", "outcome": "delivered"}
    assert metrics.registry.get_sample_value("fictra_notification_attempts_total", labels) == 1.0


def test_a_bad_receivers_yaml_fails_at_start_up_naming_each_problem(tmp_path: Path) -> None:
    (tmp_path / "receivers.yaml").write_text(
        "receivers:\n"
        "  - name: ops\n"
        "    channels:\n"
        "      - {type: email, host: h, sender: a@b.c, to: [], password: 'env:bad name'}\n"
        "      - {type: carrier-pigeon}\n"
        "      - {type: webhook, url: not-a-url, colour: red}\n"
        "  - name: ops\n"
        "    channels: [{type: log}]\n"
        "delivery: {max_attempts: 0}\n"
    )
    with pytest.raises(ConfigError) as err:
        build_outbox(tmp_path)
    msg = err.value.user_message
    assert "has 7 problem(s)" in msg, msg
    for line in (
        "receivers.yaml:receivers.0.channels.0.to: List should have at least 1 item after validation",
        "receivers.yaml:receivers.0.channels.0.password: bad secret reference 'env:bad name'",
        "receivers.yaml:receivers.0.channels.1.type: unknown or missing channel type; expected one of: log,",
        "receivers.yaml:receivers.0.channels.2.url: expected a URL (scheme://...) or a secret reference",
        "receivers.yaml:receivers.0.channels.2.colour: unknown key",
        "receivers.yaml:delivery.max_attempts: Input should be greater than or equal to 1",
        "receivers.yaml:(top): receiver name(s) ops used more than once",
    ):
        assert line in msg, (line, msg)


def test_duplicate_channel_names_and_yaml_errors(tmp_path: Path) -> None:
    path = tmp_path / "receivers.yaml"
    path.write_text("receivers:\n  - name: ops\n    channels: [{type: log}, {type: log}]\n")
    with pytest.raises(ConfigError, match="channel name 'log' is used twice"):
        build_outbox(tmp_path)
    path.write_text("receivers: [\n")
    with pytest.raises(ConfigError, match="YAML syntax error"):
        build_outbox(tmp_path)


def test_no_receivers_yaml_means_no_receivers(tmp_path: Path) -> None:
    box = build_outbox(tmp_path)
    assert box.config.receivers == []


def test_a_lease_shorter_than_a_send_is_refused(tmp_path: Path) -> None:
    (tmp_path / "receivers.yaml").write_text(
        "receivers:\n  - name: ops\n    channels: [{type: webhook, url: 'http://h/x', timeout: 30s}]\n"
        "delivery: {lease: 1m}\n"
    )
    with pytest.raises(ConfigError) as err:
        build_outbox(tmp_path)
    assert (
        "receivers.yaml:(top): delivery.lease (60s) must exceed the longest send of receiver 'ops' channel "
        "'webhook' (2 x timeout + 1 s = 61s)"
    ) in err.value.user_message
