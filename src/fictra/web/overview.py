"""The overview page: health per area, the chain and its endpoints, recent reorgs, firing alerts with
their SLA countdowns. ``/ui/overview`` is the same content as a fragment, polled by htmx every 2 s."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import AlertEvent
from fictra.alerting.queries import list_alerts
from fictra.alerting.schemas import AlertView
from fictra.api.context import AppContext
from fictra.api.deps import app_context, guarded
from fictra.auth.actor import Actor
from fictra.chain.models import ChainReorg
from fictra.web.access import ConsoleRoute, SignedIn, page
from fictra.web.health import area_health, monitor_areas
from fictra.web.templating import SEVERITIES

router = APIRouter(include_in_schema=False, route_class=ConsoleRoute)
FIRING_SHOWN = 200  # firing alerts listed on the overview (the alerts page has them all)
REORGS_SHOWN = 5
CACHE_TTL_S = 2.0  # the overview polls every 2 s


def areas_map(context: AppContext) -> dict[str, str]:
    config = context.loaded_config
    if config is None:
        return {}
    return monitor_areas(config.monitors, config.rules)


def live_status(context: AppContext) -> dict[str, Any]:
    """The platform's live status; empty when it cannot say yet (the page shows that, not an error)."""
    try:
        status = context.status()
    except Exception:  # a status callback failing must not take the overview down
        return {}
    return status if isinstance(status, dict) else {}


@dataclass
class _Cached:
    context: AppContext
    key: tuple[Any, ...]
    expires: float
    firing: list[AlertView]
    reorgs: list[Any]


_cache: _Cached | None = None


async def _store_version(session: AsyncSession, network: Any) -> tuple[Any, ...]:
    """Changes whenever the alert store or the reorg record does: every fire, resolve, acknowledgement,
    confirmation or retraction writes an alert event (the newest id is one index lookup)."""
    events = (await session.execute(select(func.max(AlertEvent.id)))).scalar()
    reorgs = (await session.execute(select(func.max(ChainReorg.id)))).scalar()
    return network, events, reorgs


async def overview_data(session: AsyncSession, context: AppContext) -> dict[str, Any]:
    """Many operators polling the overview at once share one read of the firing alerts while nothing
    changed (at most ``CACHE_TTL_S`` old for occurrence counts, which write no event)."""
    global _cache
    status = live_status(context)
    network = status.get("network")
    key = await _store_version(session, network)
    now = time.monotonic()
    cached = _cache
    if cached is not None and cached.context is context and cached.key == key and now < cached.expires:
        firing, reorgs = cached.firing, cached.reorgs
    else:
        firing = await list_alerts(session, status="firing", limit=FIRING_SHOWN)
        firing = [a for a in firing if a.confirmation != "retracted"]
        stmt = select(ChainReorg).order_by(ChainReorg.id.desc()).limit(REORGS_SHOWN)
        if network:
            stmt = stmt.where(ChainReorg.network == network)
        reorgs = list((await session.execute(stmt)).scalars())
        _cache = _Cached(context, key, now + CACHE_TTL_S, firing, reorgs)
    by_sev: dict[str, list[AlertView]] = {sev: [] for sev in SEVERITIES}
    for alert in sorted(firing, key=lambda a: a.ack_deadline):
        by_sev.setdefault(alert.severity, []).append(alert)
    return {
        "areas": area_health(firing=firing, areas=areas_map(context), status=status),
        "status": status,
        "firing_by_sev": by_sev,
        "firing_total": len(firing),
        "reorgs": reorgs,
    }


async def _render(request: Request, actor: Actor, template: str) -> Response:
    context = app_context(request)
    async with context.sessions() as session:
        data = await overview_data(session, context)
    return page(request, actor, template, page="overview", **data)


@router.get("/", **guarded("alerts.read"))
async def overview(request: Request, actor: SignedIn) -> Response:
    return await _render(request, actor, "overview.html")


@router.get("/ui/overview", **guarded("alerts.read"))
async def overview_fragment(request: Request, actor: SignedIn) -> Response:
    return await _render(request, actor, "partials/overview_live.html")
