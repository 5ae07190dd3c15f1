"""The reserve page: the latest proof of reserve (every asset's balance, oracle price with its age and
freshness, value and what counts in the ratio), the PT supply and collateral ratio, the ratio chart over
the recorded proofs, and the proof-of-reserve feed updates the platform signed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fictra.api.deps import app_context, guarded
from fictra.reserve.chart import ratio_chart
from fictra.reserve.queries import latest_proof, por_updates, ratio_series
from fictra.web.access import ConsoleRoute, SignedIn, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
E18 = 10**18


@router.get("/reserve", **guarded("reserve.read"))
async def reserve_page(request: Request, actor: SignedIn) -> Response:
    ctx = app_context(request)
    network = ctx.config_set.network.name
    minimum = ctx.config_set.reserve.proof.min_collateral_ratio
    async with ctx.sessions() as session:
        proof = await latest_proof(session, network=network)
        series = await ratio_series(session, network=network)
        updates = await por_updates(session, network=network)
    allocation = []
    if proof is not None and proof.value > 0:
        for a in proof.assets:
            target = ctx.config_set.reserve.allocation.get(str(a["symbol"]))
            if target is not None:
                weight = int(a["counted"]) / proof.value
                allocation.append(
                    {"symbol": a["symbol"], "weight": weight, "target": target.target, "band": target.band,
                     "tier": target.tier, "breach": abs(weight - target.target) > target.band}
                )  # fmt: skip
    return page(
        request,
        actor,
        "reserve.html",
        page="reserve",
        proof=proof,
        chart=ratio_chart(series, threshold=minimum),
        updates=updates,
        allocation=allocation,
        minimum=minimum,
        E18=E18,
    )
