"""A recurring window on the real pipeline with a fake clock: a daily 02:00-02:30 window in Europe/Zurich
(01:00 UTC in winter) holds an alert in its scope during the first occurrence and releases it once at that
occurrence's end; between occurrences an alert in scope is notified as usual (not muted); in the second
occurrence a held alert that cleared is dropped, not notified; the start and end notices are sent for each
occurrence, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fictra.alerting.findings import Severity
from fictra.maintenance.service import create_window

from .helpers import Harness, finding

MIN = 60


async def test_daily_window_holds_per_occurrence(sessions, clock) -> None:  # type: ignore[no-untyped-def]
    clock.advance((datetime(2026, 1, 5, 0, 50, tzinfo=UTC) - clock.now()).total_seconds())
    h = Harness(sessions, clock, lead_time="5m")
    async with h.sessions.begin() as session:
        view = await create_window(
            session, title="Nightly node restart", matchers=['component="local"'], owner="alice", actor="bob",
            clock=clock, config=h.config, starts_at=datetime(2026, 1, 5, 2, 0), timezone="Europe/Zurich",
            duration=timedelta(minutes=30), rrule="FREQ=DAILY",
        )  # fmt: skip
    assert view.starts_at == datetime(2026, 1, 5, 1, 0, tzinfo=UTC) and view.rrule == "FREQ=DAILY"
    notices: list[str] = []
    clock.advance(6 * MIN)  # 00:56: the lead-time notice
    notices += (await h.tick()).notices
    clock.advance(5 * MIN)  # 01:01, inside the first occurrence
    notices += (await h.tick()).notices
    [first] = await h.fire(finding("lag", Severity.P2, component="local"))
    notices += (await h.tick()).notices
    assert (await h.response_row(first)).muted_by == f"maintenance window {view.id}: Nightly node restart"
    assert not [n for n in await h.outbox() if n.message.get("alert_id") == first]
    clock.advance(30 * MIN)  # 01:31: the first occurrence is over, the alert still firing
    result = await h.tick()
    notices += result.notices
    assert result.released == [first] and result.dropped == []
    released = [n for n in await h.outbox() if n.idempotency_key.endswith(f":alert:{first}:log")]
    assert len(released) == 1
    assert (await h.response_row(first)).muted_by is None

    clock.advance(3 * 3600)  # 04:31, between occurrences: an alert in scope is not held
    rpc = finding("rpc", Severity.P2, component="local")
    [between] = await h.fire(rpc)
    await h.tick()
    assert (await h.response_row(between)).muted_by is None
    assert [n for n in await h.outbox() if n.message.get("alert_id") == between]  # notified as usual
    await h.clear(rpc, finding("lag", Severity.P2, component="local"))  # both resolved before the next one

    clock.advance(20 * 3600 + 34 * MIN)  # 01:05 the next day, inside the second occurrence
    notices += (await h.tick()).notices
    held = finding("disk", Severity.P2, component="local")
    [second] = await h.fire(held)
    await h.tick()
    assert (await h.response_row(second)).muted_by is not None
    await h.clear(held)
    clock.advance(30 * MIN)
    result = await h.tick()
    notices += result.notices
    assert result.dropped == [second] and result.released == []
    assert not [n for n in await h.outbox() if n.message.get("alert_id") == second]
    kinds = sorted(n.split(":", 1)[1].split(":")[0] for n in notices)
    assert kinds.count("start") == 2 and kinds.count("end") == 2, notices
