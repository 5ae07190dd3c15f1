"""Windows on the real pipeline with a fake clock: held alerts are not notified and their SLA clocks
pause; at the end the ones still firing are notified once and the cleared ones dropped; a P0 outside the
scope still pages; notices, overrun and forgotten-window reminders; the Maintenance Log."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from fictra.alerting.findings import Severity
from fictra.maintenance.log import render_html, render_markdown
from fictra.maintenance.models import MaintenanceHold
from fictra.maintenance.service import add_entry, create_window, end_window, mark_done

from .helpers import Harness, finding

MIN = 60


async def _window(h: Harness, *, minutes: int = 60, **kw: object) -> int:
    start = h.clock.now() + timedelta(minutes=5)
    async with h.sessions.begin() as session:
        view = await create_window(
            session,
            title="PT fee change",
            matchers=['component="PaymentToken"'],
            owner="alice",
            actor="bob",
            clock=h.clock,
            config=h.config,
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            steps=["schedule on the Timelock", "execute"],
            **kw,  # type: ignore[arg-type]
        )
    return view.id


def release_keys(outbox: list) -> list[str]:  # type: ignore[type-arg]
    return [n.idempotency_key for n in outbox if ":alert:" in n.idempotency_key]


async def test_held_alert_released_once_cleared_one_dropped_out_of_scope_p0_pages(sessions, clock) -> None:
    h = Harness(sessions, clock)
    window_id = await _window(h)
    clock.advance(6 * MIN)  # inside the window
    await h.tick()
    fee, other, p0 = (
        finding("fee", Severity.P2, component="PaymentToken"),
        finding("lag", Severity.P2, component="PaymentToken"),
        finding("paused", Severity.P0, component="Reserve"),
    )
    fee_id, other_id, p0_id = await h.fire(fee, other, p0)
    await h.tick()
    outbox = await h.outbox()
    paged = {n.message.get("alert_id") for n in outbox if n.idempotency_key.startswith("escalation:")}
    assert p0_id in paged  # outside the scope: pages during the window
    assert not {fee_id, other_id} & {n.message.get("alert_id") for n in outbox}  # held: nobody told
    assert not [n for n in outbox if n.idempotency_key.startswith("group:") and "fee" in n.message["body"]]
    row = await h.response_row(fee_id)
    assert row.muted_by == f"maintenance window {window_id}: PT fee change"  # the reason, on the alert
    await h.clear(other)  # cleared during the window
    clock.advance(30 * MIN)
    await h.tick()
    assert not release_keys(await h.outbox())
    clock.advance(30 * MIN)  # the window ended
    result = await h.tick()
    assert result.released == [fee_id] and result.dropped == [other_id]
    for _ in range(3):
        clock.advance(MIN)
        await h.tick()
    keys = release_keys(await h.outbox())
    assert len(keys) == 1 and keys[0].endswith(f":alert:{fee_id}:log")  # notified once, via its route
    assert (await h.response_row(fee_id)).muted_by is None
    async with sessions() as session:
        holds = {x.alert_id: x for x in (await session.execute(select(MaintenanceHold))).scalars()}
    assert holds[other_id].outcome == "dropped" and holds[fee_id].outcome == "released"
    assert set(holds) == {fee_id, other_id}


async def test_sla_clock_pauses_while_held(sessions, clock) -> None:
    h = Harness(sessions, clock)
    await _window(h, minutes=6 * 60)
    clock.advance(6 * MIN)
    [alert_id] = await h.fire(finding("fee", Severity.P2, component="PaymentToken"))
    fired = clock.now()
    before = await h.response_row(alert_id)
    assert before.ack_deadline == fired + timedelta(hours=4)  # P2 acknowledge within 4 h
    for _ in range(6 * 6):  # every 10 minutes through the window, past the 4 h deadline
        clock.advance(10 * MIN)
        await h.tick()
    assert await h.breaches() == []  # paused: no breach while held
    row = await h.response_row(alert_id)
    async with sessions() as session:
        hold = (await session.execute(select(MaintenanceHold))).scalar_one()
    assert hold.held_seconds is not None and hold.held_seconds >= 5 * 3600
    held = timedelta(seconds=hold.held_seconds)
    assert row.ack_deadline == before.ack_deadline + held  # extended by the held time
    assert row.resolve_deadline == before.resolve_deadline + held
    clock.advance(4 * 3600 - 10 * MIN)
    await h.tick()
    assert await h.breaches() == []
    clock.advance(11 * MIN)
    await h.tick()
    assert [b.kind for b in await h.breaches()] == ["acknowledge"]  # the clock ran again after release


async def test_notices_overrun_and_log(sessions, clock) -> None:
    h = Harness(sessions, clock, lead_time="1h")
    window_id = await _window(h)
    await h.tick()
    clock.advance(MIN)
    await h.tick()
    subjects = [n.message["subject"] for n in await h.outbox() if n.receiver == "stakeholders"]
    assert subjects == ["[Maintenance] Upcoming maintenance: PT fee change"]  # once
    clock.advance(5 * MIN)
    [alert_id] = await h.fire(finding("fee", Severity.P2, component="PaymentToken"))
    async with sessions.begin() as session:
        await add_entry(
            session,
            window_id=window_id,
            kind="step",
            text="scheduled on the Timelock",
            actor="bob",
            clock=clock,
        )
        await add_entry(
            session, window_id=window_id, kind="note", text="<b>fee</b> ok", actor="bob", clock=clock
        )
    await h.tick()
    clock.advance(60 * MIN)
    await h.tick()
    await h.tick()
    outbox = await h.outbox()
    subjects = [n.message["subject"] for n in outbox if n.receiver == "stakeholders"]
    assert subjects[1:] == [
        "[Maintenance] Maintenance started: PT fee change",
        "[Maintenance] Maintenance completed: PT fee change",
    ]
    ended = next(n for n in outbox if n.message["subject"].endswith("completed: PT fee change"))
    assert "Alerts held during the window: 1 (still firing and notified: 1)" in ended.message["body"]
    overrun = [n for n in outbox if n.idempotency_key.endswith(":owner:email")]
    assert len(overrun) == 1 and overrun[0].receiver == "ops-email"  # alice, the owner, not done at the end
    assert "overran" in overrun[0].message["subject"]
    async with sessions() as session:
        md = await render_markdown(session, window_id=window_id, now=clock.now())
        html = await render_html(session, window_id=window_id, now=clock.now())
    assert "# Maintenance Log" in md and f"#{alert_id}" in md and "released" in md
    assert "scheduled on the Timelock" in md and "1. schedule on the Timelock" in md
    assert "<b>" not in html and "&lt;b&gt;" in html  # a note never becomes markup


async def test_done_window_does_not_overrun(sessions, clock) -> None:
    h = Harness(sessions, clock)
    window_id = await _window(h)
    clock.advance(10 * MIN)
    async with sessions.begin() as session:
        await mark_done(session, window_id=window_id, actor="alice", clock=clock)
    clock.advance(60 * MIN)
    result = await h.tick()
    assert result.reminders == [] and result.ended == [window_id]


async def test_forgotten_emergency_window_is_reminded_each_period(sessions, clock) -> None:
    h = Harness(sessions, clock, forgotten_after="2h")
    async with sessions.begin() as session:
        view = await create_window(
            session,
            title="hotfix",
            matchers=['severity=~"P2|P3"', 'monitor="test-gas"'],
            owner="carol",  # no on-call person: the owner receiver
            actor="bob",
            clock=clock,
            config=h.config,
            emergency=True,
        )
    assert view.open_now and view.state == "active"
    reminders = []
    for _ in range(5 * 6):  # 5 hours, every 10 minutes
        clock.advance(10 * MIN)
        reminders += (await h.tick()).reminders
    assert reminders == [f"{view.id}:forgotten:1", f"{view.id}:forgotten:2"]
    async with sessions.begin() as session:
        await end_window(session, window_id=view.id, actor="bob", clock=clock)
    clock.advance(3 * 3600)
    assert (await h.tick()).reminders == []
