"""The reserve API (prefix /api/v1/reserve).

GET /reserve/proof               the latest proof of reserve (assets, prices, freshness, ratio)  reserve.read
GET /reserve/history?limit=      (block, collateral ratio) of the last proofs, oldest first     reserve.read
GET /reserve/por-updates?limit=  the proof-of-reserve feed updates the platform signed          reserve.read
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from fictra.api.deps import DbSession, app_context, guarded
from fictra.errors import NotFoundError
from fictra.reserve.queries import latest_proof, por_updates, ratio_series

router = APIRouter(prefix="/api/v1/reserve", tags=["reserve"])


def network_of(request: Request) -> str:
    return app_context(request).config_set.network.name


@router.get("/proof", summary="The latest proof of reserve", **guarded("reserve.read"))
async def reserve_proof(request: Request, session: DbSession) -> dict[str, Any]:
    proof = await latest_proof(session, network=network_of(request))
    if proof is None:
        raise NotFoundError("No proof of reserve recorded yet: the platform records one per processed batch.")
    return proof.as_dict()


@router.get("/history", summary="Collateral ratio per recorded proof", **guarded("reserve.read"))
async def reserve_history(
    request: Request, session: DbSession, limit: Annotated[int, Query(ge=1, le=5000)] = 500
) -> list[dict[str, Any]]:
    series = await ratio_series(session, network=network_of(request), limit=limit)
    return [{"block": b, "ratio": r} for b, r in series]


@router.get("/por-updates", summary="Proof-of-reserve feed updates signed", **guarded("reserve.read"))
async def reserve_por_updates(
    request: Request, session: DbSession, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> list[dict[str, Any]]:
    return await por_updates(session, network=network_of(request), limit=limit)
