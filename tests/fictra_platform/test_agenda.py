"""The daily operations meeting's agenda (the procedures' operations_agenda check) with the lines the
platform passes in from the other domains: an over-SLA ticket, an open incident, an SLA breach and a change
planned today are on the next day's agenda."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.incidents.service import declare
from fictra.platform.agenda import agenda_sources
from fictra.platform.config_set import load_config_set
from fictra.procedures.checks import CheckContext, run_check
from fictra.support.service import create_ticket

REPO = Path(__file__).resolve().parents[2]


async def test_over_sla_ticket_and_open_incident_are_on_the_agenda(
    engine: AsyncEngine, clock: FakeClock
) -> None:
    sessions = session_factory(engine)
    config = load_config_set(REPO / "config")
    async with sessions.begin() as s:
        ticket = await create_ticket(
            s, title="Redemption fails", description="d", requester_name="Ada",
            requester_email="ada@bank.example", category=None, priority="P1", source="api",
            actor="u-support", config=config.support, clock=clock,
        )  # fmt: skip
        incident = await declare(
            s, title="Reserve drained", severity="P0", category="smart_contract", actor="lee", clock=clock
        )
    ctx = CheckContext(sessions=sessions, clock=clock, agenda=agenda_sources())
    before = await run_check("operations_agenda", ctx=ctx, params={})
    assert not any("over SLA" in line for line in before.data["agenda"])
    clock.advance(int(timedelta(hours=25).total_seconds()))  # the next day's meeting
    after = await run_check("operations_agenda", ctx=ctx, params={})
    agenda = after.data["agenda"]
    assert any(line.startswith(f"ticket #{ticket.id} P1 over SLA") for line in agenda), agenda
    assert f"incident #{incident.id} P0 open in detection: Reserve drained" in agenda, agenda
