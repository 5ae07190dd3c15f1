"""Implementation with an on-chain step proposed through the callable, CEL verification over values
read through a callable, a failed verification rolled back, and the review before closing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.changes import implement, review, schedule, service
from fictra.changes.config import ChangesConfig
from fictra.changes.schemas import ReviewInput
from fictra.changes.service import ChangeRefused
from fictra.clock import FakeClock

from .conftest import OM, REQUESTER, SA, TL
from .test_service import _approve_all, _to_authorization


async def test_failed_verification_rolls_back_then_review_closes(
    sessions: async_sessionmaker[AsyncSession], cfg: ChangesConfig, clock: FakeClock
) -> None:
    proposed: list[tuple[str, dict[str, Any], int]] = []

    async def propose(
        s: AsyncSession, kind: str, params: dict[str, Any], reason: str, cid: int, actor: object
    ) -> int:
        proposed.append((kind, params, cid))
        return 100 + len(proposed)

    fee = {"pt_fee_bps": 30}

    async def read() -> Mapping[str, Any]:
        return fee

    async with sessions.begin() as s:
        cid = await _to_authorization(s, cfg, clock)
        await _approve_all(s, cid, clock)
        await schedule.schedule(s, cfg=cfg, change_id=cid, incidents_on=None, actor=TL, clock=clock)
        await service.transition(s, cfg=cfg, change_id=cid, action="start", actor=TL, clock=clock)
        action = await implement.run_step(
            s, change_id=cid, phase="implement", position=1, propose=propose, actor=TL, clock=clock
        )
        assert action == 101 and proposed == [("set_pt_fee", {"fee_bps": 25}, cid)]
        with pytest.raises(ChangeRefused, match="implementation steps not done; verification not passed"):
            await service.transition(s, cfg=cfg, change_id=cid, action="complete", actor=TL, clock=clock)
        for pos in (0, 1):
            await implement.complete_step(
                s, change_id=cid, phase="implement", position=pos, note=None, actor=TL, clock=clock
            )
        change = await implement.verify(
            s, change_id=cid, read_values=read, signoffs={}, actor=TL, clock=clock
        )
        assert change.verification_result is not None and change.verification_result["passed"] is False
        await service.transition(s, cfg=cfg, change_id=cid, action="fail", actor=TL, clock=clock)
        with pytest.raises(ChangeRefused, match="rollback steps not done"):
            await service.transition(s, cfg=cfg, change_id=cid, action="rollback", actor=TL, clock=clock)
        await implement.run_step(
            s, change_id=cid, phase="rollback", position=0, propose=propose, actor=OM, clock=clock
        )
        assert proposed[-1] == ("set_pt_fee", {"fee_bps": 30}, cid)
        await implement.complete_step(
            s, change_id=cid, phase="rollback", position=0, note="fee back", actor=OM, clock=clock
        )
        await service.transition(s, cfg=cfg, change_id=cid, action="rollback", actor=OM, clock=clock)
        assert change.state == "rolled_back"
        with pytest.raises(ChangeRefused, match="no post-implementation review"):
            await service.transition(s, cfg=cfg, change_id=cid, action="close", actor=SA, clock=clock)
        await review.record_review(
            s, change_id=cid, actor=SA, clock=clock,
            review=ReviewInput(success=False, criteria="fee 25 bps: not met", lessons_learned="simulate"),
        )  # fmt: skip
        await service.transition(s, cfg=cfg, change_id=cid, action="close", actor=SA, clock=clock)
        assert change.state == "closed"


async def test_passing_verification_completes(
    sessions: async_sessionmaker[AsyncSession], cfg: ChangesConfig, clock: FakeClock
) -> None:
    async def read() -> Mapping[str, Any]:
        return {"pt_fee_bps": 25}

    async with sessions.begin() as s:
        cid = await _to_authorization(s, cfg, clock)
        await _approve_all(s, cid, clock)
        await schedule.schedule(s, cfg=cfg, change_id=cid, incidents_on=None, actor=TL, clock=clock)
        await service.transition(s, cfg=cfg, change_id=cid, action="start", actor=REQUESTER, clock=clock)
        for pos in (0, 1):
            await implement.complete_step(
                s, change_id=cid, phase="implement", position=pos, note=None, actor=TL, clock=clock
            )
        await implement.verify(s, change_id=cid, read_values=read, signoffs={}, actor=TL, clock=clock)
        change = await service.transition(s, cfg=cfg, change_id=cid, action="complete", actor=TL, clock=clock)
        assert change.state == "review"
