"""Persist :class:`~fictra.monitors.baseline.BaselineSet` state in ``anomaly_baselines`` inside the caller's
session (no commit), so baselines advance atomically with the follower's checkpoint."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.clock import Clock
from fictra.monitors.models import BaselineState


async def load_baselines(session: AsyncSession, *, monitor: str) -> dict[str, dict[str, Any]]:
    rows = await session.execute(
        select(BaselineState.series, BaselineState.state).where(BaselineState.monitor == monitor)
    )
    return {series: dict(state) for series, state in rows.all()}


async def save_baselines(
    session: AsyncSession, *, monitor: str, states: dict[str, dict[str, Any]], clock: Clock
) -> None:
    if not states:
        return
    now = clock.now()
    existing = set(
        (
            await session.execute(select(BaselineState.series).where(BaselineState.monitor == monitor))
        ).scalars()
    )
    rows = [{"monitor": monitor, "series": k, "state": v, "updated_at": now} for k, v in states.items()]
    new = [r for r in rows if r["series"] not in existing]
    old = [r for r in rows if r["series"] in existing]
    if new:
        await session.execute(insert(BaselineState), new)
    if old:
        await session.execute(update(BaselineState), old)  # bulk UPDATE by primary key (monitor, series)
