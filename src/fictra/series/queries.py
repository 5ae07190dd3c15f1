"""Read series back for charts, downsampled to buckets of ``step`` seconds (average, min, max, sum, count
per bucket; empty buckets are left out)."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.errors import UsageError
from fictra.series.models import SeriesSample

MAX_POINTS = 5000
MAX_NAMES = 1000


class SeriesPoint(BaseModel):
    t: int  # bucket start, Unix seconds
    avg: float
    min: float
    max: float
    sum: float
    count: int


async def query_series(
    session: AsyncSession, *, network: str, name: str, start: int, end: int, step: int
) -> list[SeriesPoint]:
    """Buckets ``[start + k*step, start + (k+1)*step)`` of samples with ``start <= t < end``."""
    if step < 1:
        raise UsageError(f"step {step} must be at least 1 second.")
    if end <= start:
        raise UsageError(f"The range is empty: 'to' ({end}) must be after 'from' ({start}).")
    if (end - start) / step > MAX_POINTS:
        raise UsageError(
            f"from..to / step gives {(end - start) // step} points; at most {MAX_POINTS}. Use a larger step."
        )
    bucket = ((SeriesSample.t - start) // step).label("bucket")
    stmt = (
        select(
            bucket,
            func.avg(SeriesSample.value),
            func.min(SeriesSample.value),
            func.max(SeriesSample.value),
            func.sum(SeriesSample.value),
            func.count(),
        )
        .where(
            SeriesSample.network == network,
            SeriesSample.name == name,
            SeriesSample.t >= start,
            SeriesSample.t < end,
        )
        .group_by(bucket)
        .order_by(bucket)
    )
    return [
        SeriesPoint(
            t=start + int(b) * step, avg=float(a), min=float(lo), max=float(hi), sum=float(s), count=int(c)
        )
        for b, a, lo, hi, s, c in await session.execute(stmt)
    ]


async def series_names(session: AsyncSession, *, network: str) -> list[str]:
    stmt = (
        select(SeriesSample.name)
        .distinct()
        .where(SeriesSample.network == network)
        .order_by(SeriesSample.name)
        .limit(MAX_NAMES)
    )
    return [str(n) for n in (await session.execute(stmt)).scalars()]
