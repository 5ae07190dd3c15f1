"""SLA clocks on the injected clock (SQLite and PostgreSQL): a ticket past its first-response deadline is
flagged once by the breach job (audited) and returned by ``over_sla`` and the agenda lines; a reply stops
that clock; a solved ticket is off the list."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.audit.service import list_entries
from fictra.clock import FakeClock
from fictra.jobs import JobContext
from fictra.support.jobs import SupportContext, check_breaches, support_jobs
from fictra.support.queries import agenda_items, over_sla
from fictra.support.service import assign, create_ticket, reply, transition

from .conftest import support_config


async def _ticket(s: AsyncSession, clock: FakeClock, priority: str, title: str) -> int:
    t = await create_ticket(
        s, title=title, description="d", requester_name="Ada", requester_email="ada@bank.example",
        category="general", priority=priority, source="console", actor="u-support", config=support_config(),
        clock=clock,
    )  # fmt: skip
    return t.id


async def test_an_over_sla_ticket_is_flagged_and_on_the_agenda(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        p1 = await _ticket(s, clock, "P1", "Redemption fails")  # first response 1 h, resolution 24 h
        p3 = await _ticket(s, clock, "P3", "Question about fees")  # 24 h / 7 d
    clock.advance(59 * 60)
    async with sessions.begin() as s:
        assert await check_breaches(s, clock=clock) == []
        assert await over_sla(s, clock.now()) == []
    clock.advance(2 * 60)  # 61 min: P1's first response is late
    [job] = support_jobs(SupportContext(config=support_config(), clock=clock))
    assert job.name == "support.sla" and job.every == timedelta(minutes=1)
    await job.run(
        JobContext(
            job=job.name, due_at=clock.now(), now=clock.now(), clock=clock, sessions=sessions, holder="t"
        )
    )
    async with sessions.begin() as s:
        assert await check_breaches(s, clock=clock) == []  # flagged once
        [late] = await over_sla(s, clock.now())
        lines = await agenda_items(s, clock.now())
        audit = await list_entries(s, action="ticket.sla_breach")
    assert (late.id, late.clocks, late.priority) == (p1, ["first_response"], "P1")
    assert lines == [f"ticket #{p1} P1 over SLA (first_response): Redemption fails [new, unassigned]"]
    assert [(e.target, e.after["clock"]) for e in audit if e.after] == [(f"ticket:{p1}", "first_response")]

    async with sessions.begin() as s:  # a reply stops the first-response clock; resolution still runs
        await reply(s, ticket_id=p1, body="Looking", actor="u-support", config=support_config(), clock=clock)
        assert await over_sla(s, clock.now()) == []
    clock.advance(24 * 3600)
    async with sessions.begin() as s:
        assert [(t.id, t.clocks) for t in await over_sla(s, clock.now())] == [
            (p1, ["resolution"]), (p3, ["first_response"]),
        ]  # fmt: skip
        assert [b for b in await check_breaches(s, clock=clock)] == [
            (p1, "resolution"),
            (p3, "first_response"),
        ]
        await assign(s, ticket_id=p1, assignee="u-support", actor="u-support", clock=clock)
        await transition(s, ticket_id=p1, to_state="solved", actor="u-support", clock=clock)
        assert [t.id for t in await over_sla(s, clock.now())] == [p3]
