"""/metrics serves the Prometheus exposition of the series the platform promises, over real HTTP, to a
token holding ``metrics.read`` (and to nobody else); /healthz answers without credentials."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from fictra.api.app import serve
from fictra.devnet.anvil import free_port
from fictra.errors import ConfigError

from .rig import api_rig

SERIES = [
    "fictra_follower_lag_blocks",
    "fictra_blocks_processed_total",
    "fictra_transactions_processed_total",
    "fictra_rpc_latency_seconds_bucket",
    "fictra_rpc_errors_total",
    "fictra_reorgs_total",
    "fictra_alerts",
    "fictra_block_to_alert_seconds_bucket",
]


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    from fictra.db.engine import migrate

    url = f"sqlite:///{tmp_path / 'api.db'}"
    migrate(url)
    return url


async def test_metrics_and_status_over_http(sqlite_url: str) -> None:
    async with api_rig(sqlite_url, roles=["admin", "executive"], alerts=0) as rig:
        metrics = rig.context.metrics
        metrics.follower_lag_blocks.labels("devnet").set(3)
        metrics.blocks_processed.labels("devnet").inc(7)
        metrics.transactions_processed.labels("devnet").inc(11)
        metrics.rpc_latency_seconds.labels("devnet", "local").observe(0.004)
        metrics.rpc_errors.labels("devnet", "local").inc()
        metrics.reorgs.labels("devnet").inc()
        metrics.alerts.labels("P0", "firing", "confirmed").set(2)
        metrics.block_to_alert_seconds.labels("devnet").observe(0.02)
        port = free_port()
        stop = asyncio.Event()
        server = asyncio.create_task(serve(rig.app, host="127.0.0.1", port=port, stop=stop))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                for _ in range(100):
                    try:
                        response = await client.get("/metrics", headers=rig.auth("admin"))
                        break
                    except httpx.ConnectError:
                        await asyncio.sleep(0.05)
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/plain")
                assert response.headers["x-request-id"]
                text = response.text
                for name in SERIES:
                    assert name in text, name
                assert 'fictra_follower_lag_blocks{network="devnet"} 3.0' in text
                assert 'fictra_alerts{confirmation="confirmed",severity="P0",status="firing"} 2.0' in text
                anonymous = await client.get("/metrics")
                assert anonymous.status_code == 401
                assert anonymous.json()["error"]["code"] == "unauthorized"
                assert "fictra_" not in anonymous.text
                status = await client.get("/api/v1/status", headers=rig.auth("executive"))
                assert status.json()["network"] == "devnet"
                assert status.json()["lag"] == 2
                assert (await client.get("/healthz")).json() == {"status": "ok"}
        finally:
            stop.set()
            await server


async def test_taken_port_is_a_clear_config_error(sqlite_url: str) -> None:
    async with api_rig(sqlite_url, roles=[], alerts=0) as rig:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            sock.listen()
            port = sock.getsockname()[1]
            with pytest.raises(ConfigError, match=f"127.0.0.1:{port}"):
                await serve(rig.app, host="127.0.0.1", port=port, stop=asyncio.Event())
