"""The HTTP app served by ``fictra up``: Prometheus ``/metrics``, ``/healthz`` and a read-only status.

Bound to 127.0.0.1 by default. Authenticated operator endpoints (alerts, acknowledgement, users)
arrive with the operations console; until then nothing here changes state.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from fictra.errors import ConfigError
from fictra.metrics import Metrics


def create_app(*, metrics: Metrics, status: Callable[[], dict[str, Any]]) -> FastAPI:
    app = FastAPI(title="FICTRA Ops", version="0.1.0", docs_url="/api/docs", openapi_url="/api/openapi.json")

    @app.get("/metrics", include_in_schema=False)
    def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/api/v1/status")
    def platform_status() -> dict[str, Any]:
        return status()

    return app


async def serve(app: FastAPI, *, host: str, port: int, stop: asyncio.Event) -> None:
    """Serve until ``stop``. The socket is bound here first, so a taken port is a ConfigError naming it
    (uvicorn itself would exit the whole process)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"Cannot serve HTTP on {host}:{port}: {exc.strerror}. Set FICTRA_HTTP_PORT to a free port "
            "(or FICTRA_HTTP_HOST)."
        ) from None
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await stop.wait()
    finally:
        server.should_exit = True
        await task
        sock.close()
