"""The platform's own emergency actions cause P0 alerts on purpose (a circuit breaker pauses every
contract): those alerts are the action's expected effects, not new incidents. Auto-declare links them to
the action's incident (with a note on its timeline) or, for an action outside any incident, declares
nothing. Matched by the action's transaction hash, or — for state conditions (paused, trading halted),
which carry no hash — by a matching action's transaction sent within the last minutes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import Finding, Severity
from fictra.clock import FakeClock
from fictra.emergency import service as emergency
from fictra.emergency.ledger import EFFECT_WINDOW
from fictra.emergency.models import ActionTx
from fictra.incidents import service
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.flows import IncidentsContext
from fictra.incidents.models import IncidentEvent
from fictra.monitors.base import MonitorOutput
from fictra.monitors.pipeline import AlertPipeline

from .helpers import LEAD, emergency_actions

Sessions = async_sessionmaker[AsyncSession]
TX = "0x" + "cd" * 32


def _alert(monitor: str, condition: str, *, contract: str, tx: str | None = None) -> Finding:
    return Finding(
        monitor=monitor,
        severity=Severity.P0,
        summary=f"{contract} {condition}",
        labels={"contract": contract, "condition": condition},
        tx_hashes=(tx,) if tx else (),
    )


class Rig:
    def __init__(self, sessions: Sessions, clock: FakeClock) -> None:
        self.sessions, self.clock = sessions, clock
        self.ctx = IncidentsContext(config=IncidentsConfig(), clock=clock, actions=emergency_actions())
        self.alerts = AlertPipeline(monitors=[], clock=clock, on_changes=self.ctx.on_changes)

    async def fire(self, finding: Finding) -> int:
        async with self.sessions.begin() as s:
            (change,) = await self.alerts.ingest(
                s, MonitorOutput(findings=[finding]), network="devnet", head=None
            )
        return change.alert_id

    async def pause_sent(self, *, incident_id: int | None, tx: str = TX) -> int:
        """A pause_all whose transaction the runner has just sent (what the runner writes)."""
        async with self.sessions.begin() as s:
            view = await emergency.propose(
                s, kind="pause_all", params={}, actor=LEAD, clock=self.clock, incident_id=incident_id
            )
            s.add(
                ActionTx(
                    action_id=view.id, step=0, label="EmergencyController.pauseAll()", to="0x" + "11" * 20,
                    signer="0x" + "22" * 20, nonce=0, tx_hash=tx, status="submitted",
                    submitted_at=self.clock.now(), confirmations=0,
                )
            )  # fmt: skip
        return view.id

    async def incidents(self) -> list[int]:
        async with self.sessions() as s:
            return [i.id for i in await service.list_incidents(s)]


async def test_effects_of_an_action_outside_any_incident_declare_nothing(
    sessions: Sessions, clock: FakeClock
) -> None:
    rig = Rig(sessions, clock)
    await rig.pause_sent(incident_id=None)
    await rig.fire(_alert("pt-paused", "paused", contract="PaymentToken", tx=TX))  # its Paused event
    await rig.fire(_alert("contract-status", "paused", contract="Reserve"))  # the state it left
    assert await rig.incidents() == []

    # an unrelated P0 right after our pause is not swallowed
    breach = await rig.fire(_alert("contract-status", "reserve_breach", contract="Reserve"))
    async with sessions() as s:
        assert await service.incident_for_alert(s, breach) is not None

    # someone else's pause, long after ours: an incident as usual
    clock.advance(EFFECT_WINDOW.total_seconds() + 1)
    other = await rig.fire(_alert("contract-status", "paused", contract="FoundationToken"))
    async with sessions() as s:
        assert await service.incident_for_alert(s, other) is not None


async def test_effects_join_the_incident_of_the_action(sessions: Sessions, clock: FakeClock) -> None:
    rig = Rig(sessions, clock)
    async with sessions.begin() as s:
        declared = await service.declare(
            s,
            title="Role granted to an outsider",
            severity="P0",
            category="security",
            actor=LEAD,
            clock=clock,
        )
    action_id = await rig.pause_sent(incident_id=declared.id)
    event_alert = await rig.fire(_alert("pt-paused", "paused", contract="PaymentToken", tx=TX))
    state_alert = await rig.fire(_alert("contract-status", "paused", contract="Reserve"))

    assert await rig.incidents() == [declared.id]  # no second incident (not even a smart_contract one)
    async with sessions() as s:
        view = await service.get_incident(s, declared.id)
        notes = (
            (
                await s.execute(
                    select(IncidentEvent.text).where(
                        IncidentEvent.incident_id == declared.id, IncidentEvent.kind == "note"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert set(view.alert_ids) == {event_alert, state_alert}
    assert len(notes) == 2 and all(f"expected effect of emergency action #{action_id}" in n for n in notes)


async def test_a_failed_action_causes_nothing(sessions: Sessions, clock: FakeClock) -> None:
    rig = Rig(sessions, clock)
    await rig.pause_sent(incident_id=None)
    async with sessions.begin() as s:
        tx = (await s.execute(select(ActionTx))).scalar_one()
        tx.status = "failed"
    paused = await rig.fire(_alert("contract-status", "paused", contract="Reserve"))
    async with sessions() as s:
        assert await service.incident_for_alert(s, paused) is not None
