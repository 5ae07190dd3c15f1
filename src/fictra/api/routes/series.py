"""The series API for charts.

    GET /api/v1/series?network=devnet                       names of the recorded series
    GET /api/v1/series/{name}?from=&to=&step=&network=      bucketed points (default: last hour, ~300)

``from``/``to`` are ISO 8601 times or Unix seconds; ``step`` is in seconds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from fictra.api.context import AppContext
from fictra.api.deps import Context, DbSession, guarded
from fictra.errors import UsageError
from fictra.series.queries import SeriesPoint, query_series, series_names

router = APIRouter(prefix="/api/v1", tags=["series"])
DEFAULT_SPAN = timedelta(hours=1)
DEFAULT_POINTS = 300


class SeriesNames(BaseModel):
    network: str
    names: list[str]


class SeriesData(BaseModel):
    name: str
    network: str
    start: int
    end: int
    step: int
    points: list[SeriesPoint]


def _network(context: AppContext, network: str | None) -> str:
    if network:
        return network
    config = context.loaded_config
    return config.network.name if config is not None else "devnet"


def _epoch(value: datetime, what: str) -> int:
    if value.tzinfo is None:
        raise UsageError(
            f"Query '{what}' has value '{value.isoformat()}' without a time zone; add Z or +00:00."
        )
    return int(value.timestamp())


@router.get("/series", summary="Names of the recorded series", **guarded("metrics.read"))
async def series_list(
    session: DbSession, context: Context, network: Annotated[str | None, Query(max_length=64)] = None
) -> SeriesNames:
    net = _network(context, network)
    return SeriesNames(network=net, names=await series_names(session, network=net))


@router.get("/series/{name}", summary="One series, downsampled to buckets", **guarded("metrics.read"))
async def series_show(
    session: DbSession,
    context: Context,
    name: Annotated[str, Path(max_length=200)],
    start: Annotated[datetime | None, Query(alias="from", description="Start (default: to - 1 h)")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="End, exclusive (default: now)")] = None,
    step: Annotated[int | None, Query(ge=1, le=31_536_000, description="Bucket width in seconds")] = None,
    network: Annotated[str | None, Query(max_length=64)] = None,
) -> SeriesData:
    to = _epoch(end, "to") if end is not None else int(context.clock.now().timestamp()) + 1
    frm = _epoch(start, "from") if start is not None else to - int(DEFAULT_SPAN.total_seconds())
    width = step if step is not None else max(1, (to - frm) // DEFAULT_POINTS)
    net = _network(context, network)
    points = await query_series(session, network=net, name=name, start=frm, end=to, step=width)
    return SeriesData(name=name, network=net, start=frm, end=to, step=width, points=points)
