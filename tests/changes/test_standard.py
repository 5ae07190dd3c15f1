"""Standard changes are pre-approved by a template of changes.yaml: one naming no template, an unknown one,
or going outside its template (category, components, on-chain kinds) is refused with one message naming
each problem, nothing written; a normal change may not name a template; a standard change inside its
template goes draft -> assessment -> scheduled without any approval."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.changes import assess, schedule, service
from fictra.changes.config import ChangesConfig
from fictra.changes.models import ChangeRequest
from fictra.clock import FakeClock
from fictra.errors import UsageError

from .conftest import NO, REQUESTER, TL, fee_change

COLLECTOR = {
    "type": "standard", "template": "pt-fee-collector", "title": "Rotate the PT fee collector",
    "steps": [{"text": "setFeeCollector"}], "rollback_steps": [{"text": "restore the collector"}],
}  # fmt: skip


async def test_standard_changes_stay_inside_their_template(
    sessions: async_sessionmaker[AsyncSession], cfg: ChangesConfig, clock: FakeClock
) -> None:
    cases = [
        ({**COLLECTOR, "template": None}, "no template is one of: pt-fee-collector, rpc-node-restart"),
        ({**COLLECTOR, "template": "anything-goes"}, "template 'anything-goes' is not one of"),
        ({**COLLECTOR, "components": ["PaymentToken", "Reserve"], "category": "contract_upgrade",
          "steps": [{"text": "x", "action_kind": "set_pt_fee", "action_params": {"fee_bps": 1}}]},
         "does not cover: category contract_upgrade (the template's is protocol_parameter); component(s) "
         "Reserve (it allows PaymentToken); on-chain step kind(s) set_pt_fee (it allows none)"),
        ({"template": "pt-fee-collector"}, "Only a standard change names a template; this one is normal"),
    ]  # fmt: skip
    for kw, needle in cases:
        with pytest.raises(UsageError) as err:
            async with sessions.begin() as s:
                await service.create(s, cfg=cfg, data=fee_change(**kw), actor=REQUESTER, clock=clock)
        assert needle in err.value.user_message, err.value.user_message
    async with sessions() as s:
        assert (await s.execute(select(func.count()).select_from(ChangeRequest))).scalar_one() == 0
    async with sessions.begin() as s:
        change = await service.create(s, cfg=cfg, data=fee_change(**COLLECTOR), actor=REQUESTER, clock=clock)
        cid = change.id
        await service.transition(s, cfg=cfg, change_id=cid, action="submit", actor=REQUESTER, clock=clock)
        await assess.assess(
            s,
            cfg=cfg,
            change_id=cid,
            answers=NO,
            watched_by={},
            incidents_on=None,
            actor=REQUESTER,
            clock=clock,
        )
        done = await schedule.schedule(s, cfg=cfg, change_id=cid, incidents_on=None, actor=TL, clock=clock)
    assert done.state == "scheduled" and done.template == "pt-fee-collector" and done.rule is None
    async with sessions.begin() as s:  # an edit outside the template is refused as well
        with pytest.raises(UsageError, match="component\\(s\\) Reserve"):
            await service.edit(
                s, cfg=cfg, change_id=cid, data=fee_change(**{**COLLECTOR, "components": ["Reserve"]}),
                actor=REQUESTER, clock=clock,
            )  # fmt: skip
