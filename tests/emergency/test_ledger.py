"""The emergency domain's ledger satisfies the incidents domain's ActionLedger protocol (checked by mypy
here: the only place both are imported) and reads the actions back; a kind's ``causes`` decides which
alert conditions count as the effect of our own action."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import FakeClock
from fictra.emergency import service
from fictra.emergency.ledger import ActionsLedger
from fictra.emergency.models import ActionTx
from fictra.incidents.linked_actions import ActionLedger

from .people import SECURITY


async def test_ledger_reads_actions_and_finds_our_own_effects(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    ledger: ActionLedger = ActionsLedger()
    async with sessions.begin() as s:
        view = await service.propose(
            s, kind="pause_all", params={}, actor=SECURITY, clock=clock, incident_id=3
        )
        s.add(
            ActionTx(
                action_id=view.id, step=0, label="pauseAll", to="0x" + "00" * 20, signer="0x" + "11" * 20,
                tx_hash="0xAB", status="submitted", submitted_at=clock.now(), confirmations=0,
            )
        )  # fmt: skip
    async with sessions() as s:
        assert [a.id for a in await ledger.actions(s, incident_id=3)] == [view.id]
        assert [i.kind for i in await ledger.timeline(s, incident_id=3)][:2] == [
            "action.proposed",
            "action.approved",
        ]
        brief = await ledger.brief(s, action_id=view.id)
        assert brief is not None and brief.containment and brief.incident_id == 3
        assert await ledger.brief(s, action_id=999) is None
        now = clock.now()
        assert await ledger.caused_by(s, tx_hashes=["0xab"], condition=None, now=now) == (view.id, 3)
        assert await ledger.caused_by(s, tx_hashes=[], condition="paused", now=now) == (view.id, 3)
        assert await ledger.caused_by(s, tx_hashes=[], condition="trading_halted", now=now) is None
