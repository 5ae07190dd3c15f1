"""Inbound interop with a real Alertmanager (Debian's ``prometheus-alertmanager``): it posts its webhook to
the platform served over HTTP. Alerts that differ only in severity stay distinct (identity = Alertmanager's
own fingerprint, checked against the one its API reports), a partial resolve resolves only its alert, and
the count of an alert equals its occurrences (a repeat notification with the same startsAt is not one).

Skipped with the reason when the binary is missing, except under CI=true where it must run
(``make browser-deps`` installs it).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from api.rig import ApiRig, api_rig
from fictra.alerting.models import Alert, AlertOccurrence
from fictra.api.app import serve
from fictra.db.engine import migrate
from fictra.devnet.anvil import free_port

BINARY = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")

AM_CONFIG = """
route:
  receiver: fictra
  group_by: ['...']
  group_wait: 50ms
  group_interval: 300ms
  repeat_interval: 1s
receivers:
  - name: fictra
    webhook_configs:
      - url: http://127.0.0.1:{port}/api/v1/inbound/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials_file: {token}
"""


def _need_binary() -> str:
    if BINARY is None:
        reason = "prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; under CI=true this test must run")
        pytest.skip(reason)
    return BINARY


async def _until(what: str, check: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _alerts(rig: ApiRig) -> list[Alert]:
    async with rig.sessions() as s:
        return list(await s.scalars(select(Alert).where(Alert.network == "external").order_by(Alert.id)))


def _alert(severity: str, starts: datetime, ends: datetime | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "labels": {"alertname": "ReserveRpcDown", "instance": "rpc-1", "severity": severity},
        "annotations": {"summary": f"reserve RPC down ({severity})"},
        "startsAt": starts.isoformat(),
        "generatorURL": "http://prometheus:9090/graph",
    }
    if ends is not None:
        body["endsAt"] = ends.isoformat()
    return body


async def test_a_real_alertmanager_keeps_identities_resolves_one_and_counts_occurrences(
    tmp_path: Path,
) -> None:
    binary = _need_binary()
    url = f"sqlite:///{tmp_path / 'am.db'}"
    migrate(url)
    async with api_rig(url, roles=["admin"], alerts=0) as rig:
        port, am_port = free_port(), free_port()
        token = tmp_path / "token"
        token.write_text(rig.tokens["admin"])
        (tmp_path / "am.yml").write_text(AM_CONFIG.format(port=port, token=token))
        stop = asyncio.Event()
        server = asyncio.create_task(serve(rig.app, host="127.0.0.1", port=port, stop=stop))
        proc = await asyncio.create_subprocess_exec(
            binary, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'am'}",
            f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address=", "--log.level=warn",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        api = f"http://127.0.0.1:{am_port}/api/v2/alerts"
        try:
            async with httpx.AsyncClient(timeout=5) as http:

                async def am_up() -> bool:
                    try:
                        return (await http.get(f"http://127.0.0.1:{am_port}/-/ready")).status_code == 200
                    except httpx.HTTPError:
                        return False

                await _until("Alertmanager to start", am_up)
                t0 = datetime.now(UTC).replace(microsecond=0)
                r = await http.post(api, json=[_alert("warning", t0), _alert("critical", t0)])
                assert r.status_code == 200, r.text

                async def two() -> bool:
                    return len(await _alerts(rig)) == 2

                await _until("both alerts to arrive", two)
                warning, critical = sorted(
                    await _alerts(rig), key=lambda a: a.labels["severity"], reverse=True
                )
                # distinct, severity label kept verbatim and mapped; identity = Alertmanager's fingerprint
                assert (warning.labels["severity"], warning.severity) == ("warning", "P2")
                assert (critical.labels["severity"], critical.severity) == ("critical", "P0")
                reported = {a["labels"]["severity"]: a["fingerprint"] for a in (await http.get(api)).json()}
                assert reported == {"warning": warning.fingerprint, "critical": critical.fingerprint}

                # Alertmanager re-sends both every repeat_interval with the same startsAt: one occurrence each
                writer = rig.app.state.inbound_writer
                seen = writer.transactions

                async def repeated() -> bool:
                    return writer.transactions >= seen + 2

                await _until("a repeat notification", repeated)
                assert [a.count for a in await _alerts(rig)] == [1, 1]

                # resolve only the critical one: the warning keeps firing
                r = await http.post(api, json=[_alert("critical", t0, ends=datetime.now(UTC))])
                assert r.status_code == 200, r.text

                async def critical_resolved() -> bool:
                    return any(a.status == "resolved" and a.id == critical.id for a in await _alerts(rig))

                await _until("the critical alert to resolve", critical_resolved)
                now = {a.id: a for a in await _alerts(rig)}
                assert now[warning.id].status == "firing" and now[critical.id].status == "resolved"

                # it happens again (a new startsAt): a second occurrence of the same alert
                t1 = datetime.now(UTC) + timedelta(seconds=1)
                r = await http.post(api, json=[_alert("critical", t1)])
                assert r.status_code == 200, r.text

                async def refired() -> bool:
                    return any(a.id == critical.id and a.status == "firing" for a in await _alerts(rig))

                await _until("the critical alert to fire again", refired)
                seen = writer.transactions
                await _until("another repeat notification", repeated)
                async with rig.sessions() as s:
                    for alert in await s.scalars(select(Alert).where(Alert.network == "external")):
                        occurrences = (
                            await s.scalars(
                                select(AlertOccurrence).where(AlertOccurrence.alert_id == alert.id)
                            )
                        ).all()
                        assert alert.count == len(occurrences), alert.labels
                now = {a.id: a for a in await _alerts(rig)}
                assert (now[warning.id].count, now[critical.id].count) == (1, 2)
                assert len(now) == 2
        finally:
            proc.kill()
            await proc.wait()
            stop.set()
            await server
