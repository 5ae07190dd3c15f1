"""Automatic response: off by default, enabled only by an approved action, then a matching alert change
becomes a pre-approved pause executed at once by the runner (woken, no polling delay)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from emergency.people import LEAD, OPS
from emergency.rig import Rig
from fictra.alerting.findings import Clear, Finding, Severity
from fictra.audit.models import AuditEntry
from fictra.emergency import service
from fictra.emergency.approvals import ApprovalError
from fictra.emergency.config import PolicyConfig, PolicyMatch
from fictra.emergency.flows import PolicyStage
from fictra.emergency.models import EmergencyAction
from fictra.emergency.policies import list_policies
from fictra.monitors.base import MonitorOutput
from fictra.monitors.pipeline import AlertPipeline

BREACH = Finding(
    monitor="contract-status",
    severity=Severity.P0,
    summary="Reserve collateral ratio 0.400 is below 1.0",
    labels={"contract": "Reserve", "condition": "reserve_breach"},
)
OTHER = Finding(
    monitor="contract-status", severity=Severity.P0, summary="PaymentToken paused",
    labels={"contract": "PaymentToken", "condition": "paused"},
)  # fmt: skip


def _pipeline(rig: Rig) -> AlertPipeline:
    """The alert pipeline with the automatic-policy stage after the store (as the integrator wires it)."""
    stage = PolicyStage(config=rig.runner.config, clock=rig.clock, wake=rig.runner.wake)
    return AlertPipeline(monitors=[], clock=rig.clock, on_changes=stage)


async def _fire(rig: Rig, pipeline: AlertPipeline, *findings: Finding) -> list[int]:
    async with rig.sessions.begin() as s:
        changes = await pipeline.ingest(
            s, MonitorOutput(findings=list(findings)), network="devnet", head=None
        )
    return [c.alert_id for c in changes]


async def _clear(rig: Rig, pipeline: AlertPipeline, finding: Finding) -> None:
    async with rig.sessions.begin() as s:
        clear = Clear(finding.monitor, finding.labels, finding.network)
        await pipeline.ingest(s, MonitorOutput(clears=[clear]), network="devnet", head=None)


async def _count(rig: Rig) -> int:
    async with rig.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(EmergencyAction))).scalar_one())


async def test_policy_is_off_by_default_then_enabled_by_approval_then_pauses(rig: Rig) -> None:
    rig.runner.config.policies = {
        "reserve-drain-pause": PolicyConfig(
            name="reserve-drain-pause",
            when=PolicyMatch(monitor="contract-status", labels={"condition": "reserve_breach"}),
            action="pause_all",
        )
    }
    pipeline = _pipeline(rig)
    stop = asyncio.Event()
    loop = asyncio.ensure_future(rig.runner.run(stop))
    try:
        await _fire(rig, pipeline, BREACH)
        await rig.runner.settle()
        assert await _count(rig) == 0  # disabled: the alert changes nothing
        await _clear(rig, pipeline, BREACH)

        enable = await rig.propose("policy_enable", OPS, params={"policy": "reserve-drain-pause"})
        assert enable.status == "proposed"
        await rig.runner.dry_run(enable.id)
        with pytest.raises(ApprovalError, match="Still needed: 1 more approval"):
            await rig.runner.execute(enable.id, OPS)
        enable = await rig.approve(enable, LEAD)
        await rig.runner.dry_run(enable.id)
        done = await rig.runner.execute(enable.id, OPS)
        assert done.status == "verified", done.error
        async with rig.sessions() as s:
            (policy,) = await list_policies(s, rig.runner.config)
            audited = (
                (
                    await s.execute(
                        select(AuditEntry.action).where(AuditEntry.target == "policy:reserve-drain-pause")
                    )
                )
                .scalars()
                .all()
            )
        assert policy.enabled and policy.action_id == enable.id and policy.changed_by == "olga"
        assert audited == ["policy.enable"]

        await _fire(rig, pipeline, OTHER)  # not matching: still nothing
        rig.clock.advance(3)
        (alert_id,) = await _fire(rig, pipeline, BREACH)
        await rig.runner.settle()
        async with rig.sessions() as s:
            auto, enabling = await service.list_actions(s, status=None, limit=10)
        assert enabling.id == enable.id
        assert auto.kind == "pause_all" and auto.policy == "reserve-drain-pause"
        assert auto.trigger_alert_id == alert_id and auto.proposed_by == "policy:reserve-drain-pause"
        assert [a.via for a in auto.approvals] == ["policy:reserve-drain-pause"]
        assert auto.status == "verified", auto.error
        assert [e.kind for e in auto.events][:4] == ["proposed", "approved", "dry_run", "executing"]
        assert all((await rig.paused()).values())
        assert auto.alert_to_confirmed_seconds is not None
        count = rig.registry.get_sample_value(
            "fictra_action_alert_to_confirmed_seconds_count", {"kind": "pause_all"}
        )
        assert count == 1

        await _fire(rig, pipeline, BREACH)  # the same alert again: no second action
        await rig.runner.settle()
        assert await _count(rig) == 2
    finally:
        stop.set()
        await loop


async def test_an_automatic_action_that_cannot_run_fails_once_with_the_reason(rig: Rig) -> None:
    rig.runner.config.policies = {
        "breach-halt": PolicyConfig(
            name="breach-halt",
            when=PolicyMatch(monitor="contract-status", labels={"condition": "reserve_breach"}),
            action="halt_trading",
        )
    }  # fmt: skip
    enable = await rig.propose("policy_enable", OPS, params={"policy": "breach-halt"})
    enable = await rig.approve(enable, LEAD)
    await rig.runner.dry_run(enable.id)
    assert (await rig.runner.execute(enable.id, OPS)).status == "verified"
    await rig.dev.send(rig.dev.role("guardian")[0], "EmergencyController", "haltTrading")  # already halted

    pipeline = _pipeline(rig)
    stop = asyncio.Event()
    loop = asyncio.ensure_future(rig.runner.run(stop))
    try:
        await _fire(rig, pipeline, BREACH)
        await rig.runner.settle()
        rig.runner.wake()  # another pass of the loop: a failed action is not retried
        await rig.runner.settle()
    finally:
        stop.set()
        await loop
    async with rig.sessions() as s:
        auto = (await service.list_actions(s, limit=1))[0]
    assert auto.kind == "halt_trading" and auto.status == "failed"
    assert auto.error and "EmergencyControllerTradingAlreadyHalted" in auto.error
    assert [e.kind for e in auto.events].count("dry_run") == 1 and auto.txs == []
