"""The networks API: each network's follower position, its endpoints' health and recent reorgs.

    GET /api/v1/networks            every network (configured, or known from a checkpoint)
    GET /api/v1/networks/{name}     one network, with its 20 most recent reorgs

Live values (chain head, lag, endpoint state and latency) come from the running platform's status;
the checkpoint and reorgs from the database, so the API answers even while the follower is stopped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.api.context import AppContext
from fictra.api.deps import Context, DbSession, guarded
from fictra.chain.models import ChainCheckpoint, ChainReorg
from fictra.errors import NotFoundError

router = APIRouter(prefix="/api/v1", tags=["networks"])
RECENT_REORGS = 20


class EndpointView(BaseModel):
    name: str | None
    url: str
    state: str
    head: int | None
    latency_ms: float | None
    errors: int | None
    last_error: str | None


class ReorgView(BaseModel):
    depth: int
    common_ancestor: int
    detected_at_block: int
    detected_at: datetime


class NetworkView(BaseModel):
    name: str
    chain_id: int | None
    live: bool
    head: int | None
    last_block: int | None
    lag: int | None
    checkpoint_at: datetime | None
    endpoints: list[EndpointView]
    reorgs: list[ReorgView]


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _endpoints(raw: Any, names: list[str]) -> list[EndpointView]:
    views: list[EndpointView] = []
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(item, dict):
            continue
        latency = item.get("latency_ms")
        views.append(
            EndpointView(
                name=str(item.get("name") or (names[i] if i < len(names) else "")) or None,
                url=str(item.get("url", "")),
                state=str(item.get("state", "unknown")),
                head=_int(item.get("head")),
                latency_ms=float(latency) if isinstance(latency, int | float) else None,
                errors=_int(item.get("errors")),
                last_error=str(item["last_error"]) if item.get("last_error") else None,
            )
        )
    return views


async def _networks(session: AsyncSession, context: AppContext, *, reorgs: int) -> list[NetworkView]:
    config = context.loaded_config
    status = context.status() or {}
    checkpoints = {c.network: c for c in (await session.execute(select(ChainCheckpoint))).scalars()}
    names = list(dict.fromkeys([*([config.network.name] if config else []), *checkpoints]))
    live_name = status.get("network")
    views: list[NetworkView] = []
    for name in names:
        live = live_name == name
        cp = checkpoints.get(name)
        rows = []
        if reorgs:
            stmt = (
                select(ChainReorg)
                .where(ChainReorg.network == name)
                .order_by(ChainReorg.id.desc())
                .limit(reorgs)
            )
            rows = list((await session.execute(stmt)).scalars())
        configured = config is not None and config.network.name == name
        endpoint_names = [ep.name for ep in config.network.endpoints] if config and configured else []
        views.append(
            NetworkView(
                name=name,
                chain_id=config.network.chain_id if config and configured else None,
                live=live,
                head=_int(status.get("head")) if live else None,
                last_block=_int(status.get("last_block")) if live else (cp.block_number if cp else None),
                lag=_int(status.get("lag")) if live else None,
                checkpoint_at=cp.updated_at if cp else None,
                endpoints=_endpoints(status.get("endpoints"), endpoint_names) if live else [],
                reorgs=[ReorgView.model_validate(r, from_attributes=True) for r in rows],
            )
        )
    return views


@router.get(
    "/networks", summary="Networks, follower position and endpoint health", **guarded("networks.read")
)
async def networks_list(session: DbSession, context: Context) -> list[NetworkView]:
    return await _networks(session, context, reorgs=0)


@router.get("/networks/{name}", summary="One network with its recent reorgs", **guarded("networks.read"))
async def networks_show(
    session: DbSession, context: Context, name: Annotated[str, Path(max_length=64)]
) -> NetworkView:
    for view in await _networks(session, context, reorgs=RECENT_REORGS):
        if view.name == name:
            return view
    raise NotFoundError(f"No network named '{name}'. List them with GET /api/v1/networks.")
