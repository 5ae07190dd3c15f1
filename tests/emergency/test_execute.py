"""Executing actions on a real devnet: pause, halt, the Timelock path, reverts, dry runs."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from emergency.people import ARCHITECT, LEAD, OPS, SECURITY, VIEWER
from emergency.rig import Rig
from fictra.audit.models import AuditEntry
from fictra.errors import ConflictError, PermissionDeniedError


async def test_pause_all_dry_run_then_execute_verifies_every_target_paused(rig: Rig) -> None:
    view = await rig.propose("pause_all", SECURITY, reason="reserve drain")
    before = await rig.paused()
    assert before and not any(before.values())
    dry = await rig.runner.dry_run(view.id, actor=SECURITY)
    assert await rig.paused() == before  # the simulation changed nothing
    assert dry.ok and dry.traced
    step = dry.steps[0]
    events = [(e["contract"], e["event"]) for e in step["events"]]
    assert ("EmergencyController", "AllPaused") in events
    for name in before:
        assert (name, "Paused") in events
    all_paused = next(e for e in step["events"] if e["event"] == "AllPaused")
    assert all_paused["args"]["count"] == len(before)
    assert all_paused["args"]["by"] == rig.runner.signer_address("guardian")
    assert f"0 of {len(before)} targets paused" in dry.summary and step["gas"] > 21000

    done = await rig.runner.execute(view.id, SECURITY)
    assert done.status == "verified", done.error
    assert all((await rig.paused()).values())
    (tx,) = done.txs
    assert tx.status == "confirmed" and tx.block_number and tx.gas_used and tx.effective_gas_price
    assert tx.signer == rig.runner.signer_address("guardian")
    kinds = [e.kind for e in done.events]
    assert kinds == [
        "proposed", "approved", "dry_run", "executing", "signed", "submitted", "included", "confirmed",
        "verified",
    ]  # fmt: skip
    assert done.verification and done.verification["paused_count"] == len(before)
    async with rig.sessions() as s:
        audited = (
            (await s.execute(select(AuditEntry.action).where(AuditEntry.target == f"action:{view.id}")))
            .scalars()
            .all()
        )
    assert [a.removeprefix("action.") for a in audited] == kinds


async def test_halt_trading_tracks_confirmations_by_the_chain_head(rig: Rig) -> None:
    rig.runner.config.confirmations = 2
    view = await rig.propose("halt_trading", LEAD)
    await rig.runner.dry_run(view.id)
    task = asyncio.ensure_future(rig.runner.execute(view.id, LEAD))
    done = await rig.mining(task)
    assert done.status == "verified" and await rig.halted()
    (tx,) = done.txs
    assert tx.confirmations >= 2
    confirmed = next(e for e in done.events if e.kind == "confirmed")
    assert confirmed.details["confirmations"] >= 2 and confirmed.details["block"] == tx.block_number


async def test_unpause_goes_through_the_timelock_after_two_approvals(rig: Rig) -> None:
    pause = await rig.propose("pause_all", SECURITY)
    await rig.runner.dry_run(pause.id)
    assert (await rig.runner.execute(pause.id, SECURITY)).status == "verified"

    view = await rig.propose("unpause_all", LEAD)
    assert view.status == "proposed"
    await rig.runner.dry_run(view.id)
    with pytest.raises(ConflictError, match=r"not approved.*an approval from an operations_manager"):
        await rig.runner.execute(view.id, LEAD)
    view = await rig.approve(view, OPS)
    dry = await rig.runner.dry_run(view.id)
    assert dry.ok, dry.summary
    effect = dry.steps[0]["effect"]
    assert any(e["event"] == "AllUnpaused" for e in effect["events"])

    scheduled = await rig.runner.execute(view.id, OPS)
    assert scheduled.status == "scheduled" and scheduled.scheduled_ready_at is not None
    assert all((await rig.paused()).values())  # nothing unpaused before the delay
    assert (await rig.runner.advance(view.id)).status == "scheduled"
    await rig.dev.increase_time(61)
    done = await rig.runner.advance(view.id)
    assert done.status == "verified", done.error
    assert not any((await rig.paused()).values())
    assert [t.label.split("(")[0] for t in done.txs] == ["Timelock.schedule", "Timelock.execute"]
    assert all(t.signer == rig.runner.signer_address("governance") for t in done.txs)


async def test_a_reverted_execution_is_reported_with_its_decoded_reason(rig: Rig) -> None:
    view = await rig.propose("halt_trading", SECURITY)
    assert (await rig.runner.dry_run(view.id)).ok
    guardian = rig.dev.role("guardian")[0]
    await rig.dev.send(guardian, "EmergencyController", "haltTrading")  # someone else got there first
    done = await rig.runner.execute(view.id, SECURITY)
    assert done.status == "failed"
    assert done.error and "EmergencyControllerTradingAlreadyHalted" in done.error
    (tx,) = done.txs
    assert tx.status == "failed" and tx.block_number is not None
    assert [e.kind for e in done.events][-2:] == ["included", "failed"]


async def test_execute_needs_a_dry_run_of_the_current_parameters(rig: Rig) -> None:
    view = await rig.propose("isolate", ARCHITECT, params={"contract": "Reserve"})
    with pytest.raises(ConflictError, match="has no dry run of its current parameters"):
        await rig.runner.execute(view.id, ARCHITECT)
    await rig.runner.dry_run(view.id)
    with pytest.raises(PermissionDeniedError, match=r"'vic' lacks the permission 'actions\.execute'"):
        await rig.runner.execute(view.id, VIEWER)
    async with rig.sessions.begin() as s:
        from fictra.emergency import service

        view = await service.amend(
            s, action_id=view.id, params={"contract": "PaymentToken"}, actor=ARCHITECT, clock=rig.clock
        )
        view = await service.approve(
            s, action_id=view.id, actor=LEAD, clock=rig.clock, params_hash=view.params_hash
        )
    with pytest.raises(ConflictError, match="has no dry run of its current parameters"):
        await rig.runner.execute(view.id, ARCHITECT)
    await rig.runner.dry_run(view.id)
    done = await rig.runner.execute(view.id, ARCHITECT)
    assert done.status == "verified" and rig.controls.isolated_contracts == {"PaymentToken"}


async def test_an_isolated_contract_gets_no_actions(rig: Rig) -> None:
    iso = await rig.propose("isolate", LEAD, params={"contract": "EmergencyController"})
    await rig.runner.dry_run(iso.id)
    assert (await rig.runner.execute(iso.id, LEAD)).status == "verified"
    pause = await rig.propose("pause_all", SECURITY)
    await rig.runner.dry_run(pause.id)
    with pytest.raises(ConflictError, match="'EmergencyController' is isolated"):
        await rig.runner.execute(pause.id, SECURITY)
    assert (await rig.view(pause.id)).status == "approved" and not any((await rig.paused()).values())


async def test_upgrade_follows_the_governance_proposal_to_the_implementation_slot(rig: Rig) -> None:
    from fictra.chain import artifacts
    from fictra.devnet.accounts import role

    deployer = rig.dev.role("deployer")[0]
    tx = await rig.dev.rpc.call(
        "eth_sendTransaction",
        [{"from": deployer, "data": artifacts.load("PaymentToken").bytecode, "gas": hex(8_000_000)}],
    )
    implementation = str((await rig.dev.receipt(tx))["contractAddress"])
    params = {"proxy": "PaymentToken", "implementation": implementation, "description": "PT v2"}
    view = await rig.propose("upgrade", LEAD, params=params)
    view = await rig.approve(view, SECURITY)
    dry = await rig.runner.dry_run(view.id)
    assert dry.ok, dry.summary
    assert any(e["event"] == "Upgraded" for e in dry.steps[0]["effect"]["events"])
    started = await rig.runner.execute(view.id, LEAD)
    assert started.status == "scheduled" and [t.status for t in started.txs] == ["confirmed"]
    proposal_id = int(started.events[-1].details["proposal_id"])
    await rig.dev.mine(2)  # past the voting delay
    for sovereign in role("sovereigns"):
        await rig.dev.send(sovereign.address, "Governor", "castVote", proposal_id, 1)
    assert (await rig.runner.advance(view.id)).status == "scheduled"  # voting still open
    await rig.dev.mine(31)
    queued = await rig.runner.advance(view.id)
    assert queued.status == "scheduled" and len(queued.txs) == 2, queued.error
    await rig.dev.increase_time(61)
    done = await rig.runner.advance(view.id)
    assert done.status == "verified", done.error
    assert done.verification and done.verification["implementation"].lower() == implementation.lower()
    states = [e.details.get("proposal_state") for e in done.events if e.kind == "proposal"]
    assert states[0] in ("Pending", "Active") and "Succeeded" in states and "Queued" in states


async def test_two_actions_of_one_key_at_once_get_distinct_nonces(rig: Rig) -> None:
    pause = await rig.propose("pause_all", SECURITY)
    halt = await rig.propose("halt_trading", LEAD)
    for view in (pause, halt):
        await rig.runner.dry_run(view.id)
    done = await asyncio.gather(rig.runner.execute(pause.id, SECURITY), rig.runner.execute(halt.id, LEAD))
    assert [d.status for d in done] == ["verified", "verified"], [d.error for d in done]
    first, second = sorted(d.txs[0].nonce or 0 for d in done)
    assert second == first + 1
    assert all((await rig.paused()).values()) and await rig.halted()
