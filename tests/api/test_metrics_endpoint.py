"""/metrics serves the Prometheus exposition of the series the platform promises, over real HTTP."""

from __future__ import annotations

import asyncio

import httpx

from fictra.api.app import create_app, serve
from fictra.devnet.anvil import free_port
from fictra.metrics import new_registry

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


async def test_metrics_and_status_over_http() -> None:
    metrics = new_registry()
    metrics.follower_lag_blocks.labels("devnet").set(3)
    metrics.blocks_processed.labels("devnet").inc(7)
    metrics.transactions_processed.labels("devnet").inc(11)
    metrics.rpc_latency_seconds.labels("devnet", "http://127.0.0.1:1").observe(0.004)
    metrics.rpc_errors.labels("devnet", "http://127.0.0.1:1").inc()
    metrics.reorgs.labels("devnet").inc()
    metrics.alerts.labels("P0", "firing_confirmed").set(2)
    metrics.block_to_alert_seconds.labels("devnet").observe(0.02)
    app = create_app(metrics=metrics, status=lambda: {"network": "devnet", "lag": 3})
    port = free_port()
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, host="127.0.0.1", port=port, stop=stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(100):
                try:
                    response = await client.get("/metrics")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/plain")
            text = response.text
            for name in SERIES:
                assert name in text, name
            assert 'fictra_follower_lag_blocks{network="devnet"} 3.0' in text
            assert 'fictra_alerts{severity="P0",state="firing_confirmed"} 2.0' in text
            status = await client.get("/api/v1/status")
            assert status.json() == {"network": "devnet", "lag": 3}
            assert (await client.get("/healthz")).json() == {"status": "ok"}
    finally:
        stop.set()
        await server


async def test_taken_port_is_a_clear_config_error() -> None:
    import socket

    import pytest

    from fictra.errors import ConfigError

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        app = create_app(metrics=new_registry(), status=dict)
        with pytest.raises(ConfigError, match=f"127.0.0.1:{port}"):
            await serve(app, host="127.0.0.1", port=port, stop=asyncio.Event())
