"""A rolling window's entries in ``monitor_window``, one row per block, in the caller's session (the
follower's transaction): a batch inserts its own blocks and deletes the ones it evicted, so persisting the
window costs O(batch), however long the window is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.monitors.models import MonitorWindowEntry


async def load_entries(session: AsyncSession, *, network: str, monitor: str) -> list[list[Any]]:
    rows = await session.execute(
        select(MonitorWindowEntry.summary)
        .where(MonitorWindowEntry.network == network, MonitorWindowEntry.monitor == monitor)
        .order_by(MonitorWindowEntry.block_number)
    )
    return [list(summary) for summary in rows.scalars()]


async def add_entries(
    session: AsyncSession, *, network: str, monitor: str, entries: Sequence[tuple[int, list[Any]]]
) -> None:
    if entries:
        await session.execute(
            insert(MonitorWindowEntry),
            [{"network": network, "monitor": monitor, "block_number": n, "summary": s} for n, s in entries],
        )


async def drop_entries(
    session: AsyncSession, *, network: str, monitor: str, below: int | None = None, above: int | None = None
) -> None:
    """Delete the entries of blocks ``< below`` (evicted) or ``> above`` (removed by a reorg)."""
    stmt = delete(MonitorWindowEntry).where(
        MonitorWindowEntry.network == network, MonitorWindowEntry.monitor == monitor
    )
    if below is not None:
        stmt = stmt.where(MonitorWindowEntry.block_number < below)
    if above is not None:
        stmt = stmt.where(MonitorWindowEntry.block_number > above)
    await session.execute(stmt)
