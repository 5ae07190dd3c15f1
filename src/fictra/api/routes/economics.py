"""The economics API (prefix /api/v1/economics).

GET /economics/pool                        the PT market: price, TWAP, EWMA volatility, depth    metrics.read
GET /economics/fee-impact?fee_bps=&blocks= the PT transfers of the last blocks replayed under a  metrics.read
                                           proposed fee: revenue, participants affected, median cost

The fee replay reads the chain: it needs the running platform (`fictra up`), else 409.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from fictra.api.deps import DbSession, app_context, guarded
from fictra.errors import ConflictError, NotFoundError
from fictra.monitors.baseline_store import load_baselines
from fictra.platform.economics import assess_fee

router = APIRouter(prefix="/api/v1/economics", tags=["economics"])


@router.get("/pool", summary="The PT market as last observed", **guarded("metrics.read"))
async def economics_pool(request: Request, session: DbSession) -> dict[str, Any]:
    monitor = app_context(request).config_set.economics.pool.monitor
    state = (await load_baselines(session, monitor=monitor)).get("pool") or {}
    if not state.get("latest"):
        raise NotFoundError("No PT market observation yet: the platform records one per processed batch.")
    return dict(state["latest"])


@router.get("/fee-impact", summary="Replay PT transfers under a proposed fee", **guarded("metrics.read"))
async def economics_fee_impact(
    request: Request,
    fee_bps: Annotated[int, Query(ge=0, le=100)],
    blocks: Annotated[int, Query(ge=1, le=200_000)] = 7_200,
) -> dict[str, Any]:
    platform = app_context(request).platform
    if platform is None:
        raise ConflictError("No chain connection in this process: the fee replay needs `fictra up`.")
    token = platform.config.economics.pool.token
    impact, span = await assess_fee(platform.pool, manifest=platform.manifest, token=token, fee_bps=fee_bps,
                                    blocks=blocks)  # fmt: skip
    return {**impact.as_dict(), **span}
