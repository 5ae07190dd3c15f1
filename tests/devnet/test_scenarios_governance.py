"""Governance scenarios: the on-chain effect read back from the chain, and --undo through the Timelock."""

from __future__ import annotations

import pytest

from fictra.devnet.chainutil import DevChain
from fictra.devnet.scenarios import ScenarioContext, run_scenario
from fictra.devnet.scenarios.base import role_id
from fictra.errors import ContractError, ScenarioError


async def test_unauthorized_role_grant_and_undo(ctx: ScenarioContext, chain: DevChain) -> None:
    attacker = chain.role("attacker")[0]
    admin = role_id("DEFAULT_ADMIN_ROLE")
    assert not await chain.call("PaymentToken", "hasRole", admin, attacker)
    await run_scenario(ctx, "unauthorized-role-grant")
    await run_scenario(ctx, "unauthorized-role-grant")  # idempotent
    assert await chain.call("PaymentToken", "hasRole", admin, attacker)
    grants = await chain.contract("PaymentToken").events.RoleGranted.get_logs(from_block=0)
    last = grants[-1]["args"]
    assert last["account"] == attacker and last["sender"] == chain.manifest.address("Timelock")
    await run_scenario(ctx, "unauthorized-role-grant", undo=True)
    assert not await chain.call("PaymentToken", "hasRole", admin, attacker)
    executed = await chain.contract("Timelock").events.CallExecuted.get_logs(from_block=0)
    assert executed, "the revoke went through the Timelock's schedule/execute"
    assert ctx.store.load() == {}


async def test_pause_blocks_transfers_and_undo_unpauses(ctx: ScenarioContext, chain: DevChain) -> None:
    traders = chain.role("traders")
    await run_scenario(ctx, "pause")
    await run_scenario(ctx, "pause")  # idempotent: already paused is fine
    assert await chain.call("PaymentToken", "paused")
    assert await chain.call("FoundationToken", "paused")
    with pytest.raises(ContractError, match="EnforcedPause"):
        await chain.send(traders[0], "PaymentToken", "transfer", traders[1], 1)
    assert "pause" in ctx.store.load()
    await run_scenario(ctx, "pause", undo=True)
    assert not await chain.call("PaymentToken", "paused")
    assert not await chain.call("FoundationToken", "paused")
    await chain.send(traders[0], "PaymentToken", "transfer", traders[1], 1)


async def test_trading_halt_and_resume(ctx: ScenarioContext, chain: DevChain) -> None:
    traders = chain.role("traders")
    await run_scenario(ctx, "trading-halt")
    assert await chain.call("EmergencyController", "tradingHalted")
    with pytest.raises(ContractError, match="PaymentTokenTradingHalted"):
        await chain.send(traders[0], "PaymentToken", "transfer", traders[1], 1)
    await run_scenario(ctx, "trading-halt", undo=True)
    assert not await chain.call("EmergencyController", "tradingHalted")
    await chain.send(traders[0], "PaymentToken", "transfer", traders[1], 1)


async def test_fee_change_and_restore(ctx: ScenarioContext, chain: DevChain) -> None:
    before = await chain.call("PaymentToken", "feeBps")
    ctx.options.fee_bps = 77
    await run_scenario(ctx, "fee-change")
    assert await chain.call("PaymentToken", "feeBps") == 77
    events = await chain.contract("PaymentToken").events.FeeChanged.get_logs(from_block=0)
    assert events[-1]["args"]["newFeeBps"] == 77
    ctx.options.fee_bps = 90
    await run_scenario(ctx, "fee-change")  # applying again keeps the original fee to restore
    await run_scenario(ctx, "fee-change", undo=True)
    assert await chain.call("PaymentToken", "feeBps") == before


async def test_fee_above_maximum_is_refused(ctx: ScenarioContext) -> None:
    ctx.options.fee_bps = 101
    with pytest.raises(ScenarioError, match=r"--fee-bps is 101; the PaymentToken allows 0..100"):
        await run_scenario(ctx, "fee-change")


async def test_token_scenarios_refuse_to_run_while_paused(ctx: ScenarioContext, chain: DevChain) -> None:
    await run_scenario(ctx, "pause")
    with pytest.raises(ScenarioError, match="Reserve is paused"):
        await run_scenario(ctx, "reserve-drain")
    with pytest.raises(ScenarioError, match="PT cannot move while paused or halted"):
        await run_scenario(ctx, "large-transfer")
    assert "reserve-drain" not in ctx.store.load()
