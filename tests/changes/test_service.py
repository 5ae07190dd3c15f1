"""Change requests end to end on SQLite and PostgreSQL: assessment, authorization bound to the content,
conflicts, refusals that write nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.audit.models import AuditEntry
from fictra.changes import assess, schedule, service
from fictra.changes.config import ChangesConfig
from fictra.changes.models import ChangeEvent, ChangeRequest
from fictra.changes.ports import IncidentFact
from fictra.changes.service import ChangeRefused
from fictra.clock import FakeClock
from fictra.errors import PermissionDeniedError

from .conftest import END, NO, OM, REQUESTER, SA, START, TL, fee_change


async def _no_incidents(session: AsyncSession, names: Sequence[str]) -> list[IncidentFact]:
    return []


async def _to_authorization(s: AsyncSession, cfg: ChangesConfig, clock: FakeClock, **kw: object) -> int:
    change = await service.create(s, cfg=cfg, data=fee_change(**kw), actor=REQUESTER, clock=clock)
    await service.transition(s, cfg=cfg, change_id=change.id, action="submit", actor=REQUESTER, clock=clock)
    await assess.assess(
        s, cfg=cfg, change_id=change.id, answers=NO, watched_by={"PaymentToken": ["rule:big-transfer"]},
        incidents_on=_no_incidents, actor=REQUESTER, clock=clock,
    )  # fmt: skip
    await service.transition(
        s, cfg=cfg, change_id=change.id, action="request_authorization", actor=REQUESTER, clock=clock
    )
    return change.id


async def test_normal_change_lifecycle_with_approvals(
    sessions: async_sessionmaker[AsyncSession], cfg: ChangesConfig, clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        cid = await _to_authorization(s, cfg, clock)
        change = await s.get(ChangeRequest, cid)
        assert change is not None and change.state == "authorization"
        # critical component (3) + normal (1) = 4: high -> tech lead + system architect + operations manager
        assert change.risk is not None and change.risk["level"] == "high" and change.risk["score"] == 4
        assert change.impact is not None
        assert change.impact["dependents"] == ["Reserve", "pt-cash-pool"]
        assert change.impact["watched_by"] == ["rule:big-transfer"]
        h = change.content_hash
        with pytest.raises(ChangeRefused, match="approvals missing: technical_lead, system_architect, "
                           "operations_manager"):  # fmt: skip
            await schedule.schedule(s, cfg=cfg, change_id=cid, incidents_on=None, actor=TL, clock=clock)
        for who in (TL, SA):
            await service.approve(s, change_id=cid, content_hash=h, actor=who, clock=clock)
        with pytest.raises(ChangeRefused, match=r"approvals missing: operations_manager\."):
            await schedule.schedule(s, cfg=cfg, change_id=cid, incidents_on=None, actor=TL, clock=clock)
        await service.approve(s, change_id=cid, content_hash=h, actor=OM, clock=clock)
        await schedule.schedule(s, cfg=cfg, change_id=cid, incidents_on=None, actor=TL, clock=clock)
        assert change.state == "scheduled"


async def test_edit_voids_approvals(
    sessions: async_sessionmaker[AsyncSession], cfg: ChangesConfig, clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        cid = await _to_authorization(s, cfg, clock)
        change = await s.get(ChangeRequest, cid)
        assert change is not None
        old = change.content_hash
        for who in (TL, SA, OM):
            await service.approve(s, change_id=cid, content_hash=old, actor=who, clock=clock)
        await schedule.schedule(s, cfg=cfg, change_id=cid, incidents_on=None, actor=TL, clock=clock)
        assert change.state == "scheduled"
        await service.edit(
            s, cfg=cfg, change_id=cid, data=fee_change(description="Market conditions, 20 bps later."),
            actor=REQUESTER, clock=clock,
        )  # fmt: skip
        assert change.state == "authorization" and change.content_hash != old
        with pytest.raises(ChangeRefused, match="approvals missing: technical_lead, system_architect"):
            await schedule.schedule(s, cfg=cfg, change_id=cid, incidents_on=None, actor=TL, clock=clock)
        # approving the old content is refused too: the approver must see the new one
        with pytest.raises(ChangeRefused, match=f"you approved {old[:12]} but it is now"):
            await service.approve(s, change_id=cid, content_hash=old, actor=TL, clock=clock)
        last = (await s.execute(select(ChangeEvent).where(ChangeEvent.kind == "edited"))).scalar_one()
        assert "approvals voided: tom, sam, olga" in last.text


async def test_wrong_role_duplicate_and_requester_refused(
    sessions: async_sessionmaker[AsyncSession], cfg: ChangesConfig, clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        cid = await _to_authorization(s, cfg, clock)
        change = await s.get(ChangeRequest, cid)
        assert change is not None
        h = change.content_hash
        from .conftest import AUDITOR

        with pytest.raises(PermissionDeniedError, match=r"'ann' cannot approve change .* roles are auditor"):
            await service.approve(s, change_id=cid, content_hash=h, actor=AUDITOR, clock=clock)
        with pytest.raises(ChangeRefused, match="the requester cannot approve"):
            await service.approve(s, change_id=cid, content_hash=h, actor=REQUESTER, clock=clock)
        await service.approve(s, change_id=cid, content_hash=h, actor=TL, clock=clock)
        with pytest.raises(ChangeRefused, match="'tom' already approved"):
            await service.approve(s, change_id=cid, content_hash=h, actor=TL, clock=clock)


async def test_approvals_expire(
    sessions: async_sessionmaker[AsyncSession], cfg: ChangesConfig, clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        cid = await _to_authorization(s, cfg, clock)
        change = await s.get(ChangeRequest, cid)
        assert change is not None
        for who in (TL, SA, OM):
            await service.approve(s, change_id=cid, content_hash=change.content_hash, actor=who, clock=clock)
        clock.advance(timedelta(days=8).total_seconds())
        with pytest.raises(ChangeRefused, match="approvals missing: technical_lead, system_architect"):
            await schedule.schedule(s, cfg=cfg, change_id=cid, incidents_on=None, actor=TL, clock=clock)


async def _approve_all(s: AsyncSession, cid: int, clock: FakeClock) -> None:
    change = await s.get(ChangeRequest, cid)
    assert change is not None
    for who in (TL, SA, OM):
        await service.approve(s, change_id=cid, content_hash=change.content_hash, actor=who, clock=clock)


async def test_second_change_on_payment_token_in_the_same_slot_is_flagged(
    sessions: async_sessionmaker[AsyncSession], cfg: ChangesConfig, clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        first = await _to_authorization(s, cfg, clock)
        await _approve_all(s, first, clock)
        await schedule.schedule(s, cfg=cfg, change_id=first, incidents_on=None, actor=TL, clock=clock)
        second = await _to_authorization(
            s, cfg, clock, title="Raise the fee cap", planned_start=START + timedelta(minutes=30),
            planned_end=END + timedelta(minutes=30),
        )  # fmt: skip
        await _approve_all(s, second, clock)
        with pytest.raises(ChangeRefused, match=rf"1 conflict\(s\) not acknowledged .*change {first} "
                           r"\(Lower the PaymentToken fee to 25 bps\) on PaymentToken"):  # fmt: skip
            await schedule.schedule(s, cfg=cfg, change_id=second, incidents_on=None, actor=TL, clock=clock)
        with pytest.raises(PermissionDeniedError, match="cannot acknowledge"):
            await schedule.acknowledge(
                s, cfg=cfg, change_id=second, incidents_on=None, actor=SA.__class__(
                    user_id=None, username="x", roles=("auditor",), permissions=frozenset(), via="cli"),
                clock=clock,
            )  # fmt: skip
        await schedule.acknowledge(s, cfg=cfg, change_id=second, incidents_on=None, actor=OM, clock=clock)
        done = await schedule.schedule(s, cfg=cfg, change_id=second, incidents_on=None, actor=TL, clock=clock)
        assert done.state == "scheduled"
        assert done.conflicts is not None and [c["kind"] for c in done.conflicts] == ["overlap"]


async def test_window_freeze_and_incident_conflicts(
    sessions: async_sessionmaker[AsyncSession], cfg: ChangesConfig, clock: FakeClock
) -> None:
    async def p1(session: AsyncSession, names: Sequence[str]) -> list[IncidentFact]:
        return [IncidentFact(7, "P1", "fee drift", ("PaymentToken",))]

    from datetime import UTC, datetime

    month_end = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)  # a Saturday and the month-end freeze
    async with sessions.begin() as s:
        change = await service.create(
            s, cfg=cfg, actor=REQUESTER, clock=clock,
            data=fee_change(planned_start=month_end, planned_end=month_end + timedelta(hours=1)),
        )  # fmt: skip
        found = await schedule.conflicts_of(s, cfg=cfg, change=change, incidents_on=p1)
        kinds = [c["kind"] for c in found]
        assert kinds == ["window", "freeze", "incident"]
        assert "open P1 incident 7 (fee drift) on PaymentToken" in found[2]["text"]


async def test_authorization_without_rollback_plan_is_one_clear_error_and_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], cfg: ChangesConfig, clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        change = await service.create(
            s, cfg=cfg, data=fee_change(rollback_plan=None, rollback_steps=[]), actor=REQUESTER, clock=clock
        )
        cid = change.id
        await service.transition(s, cfg=cfg, change_id=cid, action="submit", actor=REQUESTER, clock=clock)
    async with sessions() as s:
        before = await s.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(ChangeRefused) as err:
        async with sessions.begin() as s:
            await service.transition(
                s, cfg=cfg, change_id=cid, action="request_authorization", actor=REQUESTER, clock=clock
            )
    assert err.value.user_message == (
        f"Change {cid} cannot request authorization: no rollback plan; impact not assessed; "
        "risk not evaluated."
    )
    async with sessions() as s:
        row = await s.get(ChangeRequest, cid)
        assert row is not None and row.state == "assessment" and row.rule is None
        assert await s.scalar(select(func.count()).select_from(AuditEntry)) == before


async def test_emergency_change_skips_assessment_and_is_reviewed_afterwards(
    sessions: async_sessionmaker[AsyncSession], cfg: ChangesConfig, clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        change = await service.create(
            s, cfg=cfg, data=fee_change(type="emergency"), actor=REQUESTER, clock=clock
        )
        with pytest.raises(ChangeRefused, match="'submit' is not possible"):
            await service.transition(s, cfg=cfg, change_id=change.id, action="submit", actor=TL, clock=clock)
        await service.transition(
            s, cfg=cfg, change_id=change.id, action="request_authorization", actor=REQUESTER, clock=clock
        )
        assert change.rule is not None and change.rule["roles"] == ["operations_manager"]
        await service.approve(s, change_id=change.id, content_hash=change.content_hash, actor=OM, clock=clock)
        await schedule.schedule(s, cfg=cfg, change_id=change.id, incidents_on=None, actor=OM, clock=clock)
        assert change.state == "scheduled"
