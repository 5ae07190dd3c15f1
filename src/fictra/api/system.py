"""Operational endpoints: ``/healthz`` (public liveness), ``/metrics`` (Prometheus exposition, behind
``metrics.read``: scrape with ``Authorization: Bearer <token>``) and ``/api/v1/status`` (live platform
status)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from fictra.api.deps import Context, guarded

router = APIRouter()


class Health(BaseModel):
    status: str


@router.get("/healthz", tags=["system"], summary="Liveness (no credentials needed)")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/metrics",
    tags=["system"],
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    **guarded("metrics.read"),
)
async def prometheus_metrics(context: Context) -> Response:
    return Response(generate_latest(context.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/api/v1/status", tags=["system"], summary="Live platform status", **guarded("networks.read"))
async def platform_status(context: Context) -> dict[str, Any]:
    return context.status()
