"""The merged timeline: alert events (before and after declaration), incident events and emergency action
events, in time order."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting import actions as alert_actions
from fictra.clock import FakeClock
from fictra.emergency import service as emergency
from fictra.errors import NotFoundError
from fictra.incidents import service
from fictra.incidents.timeline import timeline

from .helpers import LEAD, emergency_actions, finding, fire


async def test_timeline_merges_alerts_incident_and_actions_in_time_order(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    [alert_id] = await fire(sessions, clock, finding("paused"))
    clock.advance(60)
    async with sessions.begin() as s:
        view = await service.declare(
            s,
            title="PT paused",
            severity="P0",
            category="smart_contract",
            actor=LEAD,
            clock=clock,
            alert_ids=[alert_id],
        )
    clock.advance(30)
    async with sessions.begin() as s:
        await emergency.propose(
            s, kind="pause_all", params={}, actor=LEAD, clock=clock, incident_id=view.id, reason="contain"
        )
    clock.advance(30)
    async with sessions.begin() as s:
        await alert_actions.acknowledge(s, alert_id=alert_id, actor=LEAD, clock=clock, note="on it")
    clock.advance(1)
    async with sessions.begin() as s:
        await service.add_note(s, incident_id=view.id, text="guardian key ready", actor=LEAD, clock=clock)
    async with sessions() as s:
        items = await timeline(s, view.id, actions=emergency_actions())
    kinds = [i.kind for i in items]
    assert kinds[0] == "alert.fired" and kinds[1:3] == ["incident.declared", "incident.output"]
    assert "action.proposed" in kinds and kinds.index("action.proposed") < kinds.index("alert.acknowledged")
    assert kinds[-1] == "incident.note"
    assert [i.at for i in items] == sorted(i.at for i in items)
    fired = items[0]
    assert fired.ref == f"alert:{alert_id}" and fired.actor == "monitor:contract-status"
    assert fired.text == f"Alert {alert_id} (P0, contract-status) fired: paused happened"
    ack = next(i for i in items if i.kind == "alert.acknowledged")
    assert ack.actor == "lead" and ack.text.endswith("acknowledged: on it")
    action = next(i for i in items if i.kind == "action.proposed")
    assert (
        action.ref is not None
        and action.ref.startswith("action:")
        and action.details["action_kind"] == "pause_all"
    )


async def test_timeline_of_unknown_incident(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s:
        with pytest.raises(NotFoundError, match="No incident with id 77"):
            await timeline(s, 77)
