"""Bad input is refused with one clear error naming the value, and nothing is written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from fictra.audit.models import AuditEntry
from fictra.errors import ConflictError, UsageError
from fictra.maintenance.service import cancel_window, create_window

from .helpers import Harness


async def _create(h: Harness, **kw: object):  # type: ignore[no-untyped-def]
    args: dict[str, object] = {
        "title": "node upgrade",
        "matchers": ['component="rpc"'],
        "owner": "alice",
        "actor": "bob",
        "clock": h.clock,
        "config": h.config,
        "starts_at": datetime(2026, 3, 15, 4, 0),
        "duration": timedelta(hours=2),
        "timezone": "Europe/Zurich",
    }
    args.update(kw)
    async with h.sessions.begin() as session:
        return await create_window(session, **args)  # type: ignore[arg-type]


async def _audits(h: Harness) -> int:
    async with h.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one())


async def test_bad_inputs_refused_and_nothing_written(sessions, clock) -> None:
    h = Harness(sessions, clock)
    weekly = await _create(h, rrule="FREQ=WEEKLY;BYDAY=SU")
    assert weekly.next_start == datetime(2026, 3, 15, 3, tzinfo=UTC)  # 04:00 Zurich (UTC+1)
    count, audits = await h.window_count(), await _audits(h)
    cases = [
        ({"rrule": "FREQ=WEEKLY;BYDAY=XX"}, UsageError, "FREQ=WEEKLY;BYDAY=XX"),
        (
            {"starts_at": datetime(2026, 3, 15, 4), "ends_at": datetime(2026, 3, 15, 3), "duration": None},
            UsageError,
            "must be after its start",
        ),
        ({"timezone": "Europe/Atlantis"}, UsageError, "Europe/Atlantis"),
        ({"matchers": ['component=~"("']}, UsageError, "bad regular expression"),
        ({"matchers": []}, UsageError, "needs a scope"),
        # a one-off on 2026-03-29 at 04:30 Zurich meets the weekly window's occurrence (04:00-06:00)
        ({"starts_at": datetime(2026, 3, 29, 4, 30)}, ConflictError, f"window {weekly.id} 'node upgrade'"),
    ]
    for kw, error, needle in cases:
        with pytest.raises(error) as err:
            await _create(h, **kw)
        assert needle in err.value.user_message, (kw, err.value.user_message)
    assert await h.window_count() == count and await _audits(h) == audits  # nothing half-written
    other_scope = await _create(h, starts_at=datetime(2026, 3, 29, 4, 30), matchers=['component="rpc2"'])
    assert other_scope.id != weekly.id  # the same slot with another scope is fine
    async with sessions.begin() as session:
        await cancel_window(session, window_id=weekly.id, actor="bob", clock=clock, reason="moved")
    assert (await _create(h, starts_at=datetime(2026, 3, 29, 4, 30))).state == "scheduled"
    with pytest.raises(ConflictError, match="already canceled"):
        async with sessions.begin() as session:
            await cancel_window(session, window_id=weekly.id, actor="bob", clock=clock, reason="again")
