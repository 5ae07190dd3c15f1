"""The economics page: the PT market as last observed by the platform (pool price against the 1.0 peg,
TWAP, EWMA volatility, depth at 1% and 5% of the PT reserve, reserves) against the configured levels."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fictra.api.deps import app_context, guarded
from fictra.monitors.baseline_store import load_baselines
from fictra.web.access import ConsoleRoute, SignedIn, page

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)


@router.get("/economics", **guarded("metrics.read"))
async def economics_page(request: Request, actor: SignedIn) -> Response:
    ctx = app_context(request)
    config = ctx.config_set.economics.pool
    async with ctx.sessions() as session:
        state = (await load_baselines(session, monitor=config.monitor)).get("pool") or {}
    return page(request, actor, "economics.html", page="economics", market=state.get("latest"), config=config)
