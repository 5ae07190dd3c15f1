"""The maintenance windows of scheduled changes (fictra up's wiring, platform/change_windows.py) on SQLite
and PostgreSQL: scheduling opens a window for the slot scoped to the change's components and owned by it;
a second change on the same component in the same slot (its conflict acknowledged) shares that window
rather than being refused; only the owning change cancels it (edited or canceled while scheduled) or marks
its work done (implementation over)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.changes import schedule
from fictra.changes.config import ChangesConfig
from fictra.changes.records import load
from fictra.clock import FakeClock
from fictra.maintenance.config import MaintenanceConfig
from fictra.maintenance.models import MaintenanceEvent, MaintenanceWindow
from fictra.platform.change_windows import ChangeWindows

from .conftest import SA, START, TL
from .test_service import _approve_all, _to_authorization


async def _scheduled(
    s: AsyncSession, cfg: ChangesConfig, clock: FakeClock, windows: ChangeWindows, **kw: object
) -> int:
    cid = await _to_authorization(s, cfg, clock, **kw)
    await _approve_all(s, cid, clock)
    await schedule.acknowledge(s, cfg=cfg, change_id=cid, incidents_on=None, actor=SA, clock=clock)
    await schedule.schedule(
        s, cfg=cfg, change_id=cid, incidents_on=None, actor=TL, clock=clock, open_window=windows.open
    )
    return cid


async def test_changes_open_share_and_release_their_windows(
    sessions: async_sessionmaker[AsyncSession], cfg: ChangesConfig, clock: FakeClock
) -> None:
    windows = ChangeWindows(MaintenanceConfig(), clock)
    async with sessions.begin() as s:
        first = await _scheduled(s, cfg, clock, windows)
        second = await _scheduled(s, cfg, clock, windows, title="Pause PT fees")
        third = await _scheduled(s, cfg, clock, windows, title="DB", components=["database"])
    async with sessions() as s:
        rows = {w.id: w for w in (await s.execute(select(MaintenanceWindow))).scalars()}
        changes = {c: (await load(s, c)) for c in (first, second, third)}
    assert changes[first].window_id == changes[second].window_id  # shared, not refused
    shared = rows[changes[first].window_id]
    assert (shared.owner_change_id, shared.matchers, shared.starts_at) == (
        first,
        ['contract=~"PaymentToken"'],
        START,
    )
    assert rows[changes[third].window_id].matchers == ['component=~"database"']
    async with sessions.begin() as s:  # the second change goes: the window it shares stays
        await windows.close(s, shared.id, second, f"change {second} canceled", TL)
        await windows.done(s, shared.id, second, "not mine", TL)
    async with sessions() as s:
        assert (await s.get(MaintenanceWindow, shared.id)).state == "scheduled"  # type: ignore[union-attr]
    clock.advance((START - clock.now()).total_seconds() + 60)  # inside the slot
    async with sessions.begin() as s:
        await windows.done(s, shared.id, first, f"change {first} implemented", TL)
        await windows.done(s, shared.id, first, "twice: nothing more", TL)
        await windows.close(s, changes[third].window_id, third, f"change {third} canceled", TL)
    async with sessions() as s:
        kinds = [
            e.kind
            for e in (
                await s.execute(select(MaintenanceEvent).where(MaintenanceEvent.window_id == shared.id))
            ).scalars()
        ]
        third_window = await s.get(MaintenanceWindow, changes[third].window_id)
    assert kinds.count("done") == 1
    assert third_window is not None and third_window.state == "canceled"
