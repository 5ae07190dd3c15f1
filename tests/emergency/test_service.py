"""Proposing, approving, amending and cancelling actions; the approval rule's rejections; the incident
timeline feed. Storage code: runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.audit.models import AuditEntry
from fictra.clock import FakeClock
from fictra.emergency import service
from fictra.emergency.approvals import ApprovalError, params_hash
from fictra.emergency.models import EmergencyAction
from fictra.errors import ConflictError, NotFoundError, PermissionDeniedError, UsageError

from .people import ARCHITECT, LEAD, OPS, OPS2, SECURITY, VIEWER


async def test_pause_proposed_by_a_security_officer_is_approved_at_once(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        view = await service.propose(
            s, kind="pause_all", params={}, actor=SECURITY, clock=clock, incident_id=7, reason="drain"
        )
    assert view.status == "approved" and view.rule_satisfied
    assert [a.approver for a in view.approvals] == ["sam"]
    assert view.params_hash == params_hash("pause_all", {})
    async with sessions() as s:
        audit = (await s.execute(select(AuditEntry.action).order_by(AuditEntry.idx))).scalars().all()
        items = await service.events_for_incident(s, 7)
        assert await service.events_for_incident(s, 8) == []
    assert audit == ["action.proposed", "action.approved"]
    assert [i.kind for i in items] == ["action.proposed", "action.approved"]
    assert items[0].ref == f"action:{view.id}" and items[0].actor == "sam"
    assert "drain" in items[0].text and items[0].details["action_kind"] == "pause_all"


async def test_unpause_needs_two_people_including_the_operations_manager(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        view = await service.propose(s, kind="unpause_all", params={}, actor=LEAD, clock=clock)
        assert view.status == "proposed"  # the lead's own approval counts, but one is not enough
        view = await service.approve(
            s, action_id=view.id, actor=ARCHITECT, clock=clock, params_hash=view.params_hash
        )
        assert view.status == "proposed" and "operations_manager" in view.approvals_needed
        view = await service.approve(
            s, action_id=view.id, actor=OPS, clock=clock, params_hash=view.params_hash
        )
    assert view.status == "approved"
    assert sorted(a.approver for a in view.approvals) == ["ari", "lee", "olga"]


async def test_wrong_role_is_rejected_naming_roles_needed_and_held(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        view = await service.propose(s, kind="unpause_all", params={}, actor=OPS, clock=clock)
        with pytest.raises(ApprovalError) as err:
            await service.approve(
                s, action_id=view.id, actor=VIEWER, clock=clock, params_hash=view.params_hash
            )
    msg = err.value.user_message
    assert "'vic' cannot approve unpause_all" in msg
    assert "operations_manager or security_officer" in msg and "roles are viewer" in msg


async def test_the_same_person_approving_twice_is_rejected(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        view = await service.propose(s, kind="unpause_all", params={}, actor=OPS, clock=clock)
        with pytest.raises(ApprovalError, match=r"'olga' already approved action \d+ at .*distinct people"):
            await service.approve(s, action_id=view.id, actor=OPS, clock=clock, params_hash=view.params_hash)


async def test_an_expired_approval_no_longer_counts_and_says_when(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        view = await service.propose(s, kind="unpause_all", params={}, actor=OPS, clock=clock)
        clock.advance(5 * 3600)  # the rule's approvals last 4h
        view = await service.approve(
            s, action_id=view.id, actor=LEAD, clock=clock, params_hash=view.params_hash
        )
        assert view.status == "proposed"
        assert [a.valid for a in view.approvals] == [False, True]
        row = await service.load_action(s, view.id)
        with pytest.raises(ApprovalError) as err:
            await service.require_approved(s, row, clock=clock)
        msg = err.value.user_message
        assert "by olga given at 2026-01-01T00:00:00+00:00 expired at 2026-01-01T04:00:00+00:00" in msg
        assert "Approve again" in msg
        # the expired approver may approve again
        view = await service.approve(
            s, action_id=view.id, actor=OPS, clock=clock, params_hash=view.params_hash
        )
        assert view.status == "approved"
        await service.require_approved(s, row, clock=clock)


async def test_changed_parameters_invalidate_earlier_approvals(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        view = await service.propose(
            s, kind="isolate", params={"endpoint": "primary"}, actor=LEAD, clock=clock
        )
        assert view.status == "approved"
        old = view.params_hash
        view = await service.amend(
            s, action_id=view.id, params={"endpoint": "backup"}, actor=ARCHITECT, clock=clock
        )
        assert view.status == "proposed" and view.params_hash != old
        assert not view.approvals[0].valid and "now" in (view.approvals[0].note or "")
        with pytest.raises(ApprovalError) as err:
            await service.approve(s, action_id=view.id, actor=SECURITY, clock=clock, params_hash=old)
        assert (
            f"you approved hash {old[:12]} but they are now {view.params_hash[:12]}" in err.value.user_message
        )
        assert "changed by ari" in err.value.user_message
        row = await service.load_action(s, view.id)
        with pytest.raises(
            ApprovalError, match=r"approval #\d+ by lee approved parameters .* changed by ari"
        ):
            await service.require_approved(s, row, clock=clock)
        view = await service.approve(
            s, action_id=view.id, actor=SECURITY, clock=clock, params_hash=view.params_hash
        )
        assert view.status == "approved"


async def test_proposer_must_hold_a_proposing_role_and_params_are_checked(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        with pytest.raises(PermissionDeniedError, match=r"'vic' .*may not propose 'pause_all'"):
            await service.propose(s, kind="pause_all", params={}, actor=VIEWER, clock=clock)
        with pytest.raises(UsageError, match="Unknown action kind 'pause'"):
            await service.propose(s, kind="pause", params={}, actor=LEAD, clock=clock)
        with pytest.raises(UsageError, match="target: unknown parameter"):
            await service.propose(s, kind="pause_all", params={"target": "x"}, actor=LEAD, clock=clock)
        with pytest.raises(UsageError, match="exactly one of 'endpoint'"):
            await service.propose(s, kind="isolate", params={}, actor=LEAD, clock=clock)
        with pytest.raises(NotFoundError, match="No alert with id '999'"):
            await service.propose(
                s, kind="pause_all", params={}, actor=LEAD, clock=clock, trigger_alert_id=999
            )
    async with sessions() as s:
        assert (await s.execute(select(func.count()).select_from(EmergencyAction))).scalar_one() == 0


async def test_cancel_and_closed_actions(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        view = await service.propose(s, kind="resume_trading", params={}, actor=OPS2, clock=clock)
        view = await service.cancel(s, action_id=view.id, actor=OPS2, clock=clock, reason="not yet")
        assert view.status == "cancelled" and view.events[-1].kind == "cancelled"
        with pytest.raises(ConflictError, match="is cancelled; approvals are taken only"):
            await service.approve(s, action_id=view.id, actor=OPS, clock=clock, params_hash=view.params_hash)
        with pytest.raises(NotFoundError):
            await service.get_action(s, 12345)
        listed = await service.list_actions(s, status="cancelled")
        assert [a.id for a in listed] == [view.id]


async def test_link_incident_puts_the_whole_timeline_on_the_incident(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        view = await service.propose(s, kind="halt_trading", params={}, actor=LEAD, clock=clock)
        assert await service.events_for_incident(s, 3) == []
        await service.link_incident(s, action_id=view.id, incident_id=3, actor=OPS, clock=clock)
        items = await service.events_for_incident(s, 3)
    assert [i.kind for i in items] == ["action.proposed", "action.approved", "action.linked"]
    assert items[-1].text.endswith("olga linked the action to incident 3")
