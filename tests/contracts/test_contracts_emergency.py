"""EmergencyController: the guardian pauses and halts (blocking PT/FT transfers and pool swaps) but
cannot undo either; only the Timelock unpauses and resumes, after its minimum delay."""

from __future__ import annotations

from contractkit import ZERO32, Actors, System, role_id, schedule, through_timelock

E18 = 10**18


async def _swap_cash_for_pt(system: System, trader: str, cash_in: int) -> None:
    """Send CASH to the pair and take PT out (the pair transfers PT, so pause/halt stop it)."""
    pool, pt = system.addr("Pool:PT-CASH"), system.addr("PaymentToken")
    r0, r1, _ = await system.view("Pool:PT-CASH", "getReserves")
    pt_is_0 = await system.view("Pool:PT-CASH", "token0") == pt
    r_in, r_out = (r1, r0) if pt_is_0 else (r0, r1)
    out = cash_in * 997 * r_out // (r_in * 1000 + cash_in * 997)
    await system.send(trader, "Asset:CASH", "transfer", pool, cash_in)
    amounts = (out, 0) if pt_is_0 else (0, out)
    await system.send(trader, "Pool:PT-CASH", "swap", amounts[0], amounts[1], trader, b"")


async def _pool_swap_error(system: System, trader: str) -> str:
    try:
        await _swap_cash_for_pt(system, trader, 1000 * E18)
    except Exception as exc:  # the decoded ContractError
        return str(exc)
    raise AssertionError("the swap went through")


async def test_pool_swap_works_normally(system: System, who: Actors) -> None:
    before = await system.view("PaymentToken", "balanceOf", who.traders[0])
    await _swap_cash_for_pt(system, who.traders[0], 1000 * E18)
    assert await system.view("PaymentToken", "balanceOf", who.traders[0]) > before


async def test_pause_all_blocks_pt_ft_reserve_and_pool(system: System, who: Actors) -> None:
    receipt = await system.send(who.guardian, "EmergencyController", "pauseAll")
    assert await system.events(receipt, "EmergencyController", "AllPaused") == [
        {"by": who.guardian, "count": 3}
    ]
    for name in ("FoundationToken", "PaymentToken", "Reserve"):
        assert await system.view(name, "paused"), name
    pt = await system.revert_of(who.traders[0], "PaymentToken", "transfer", who.traders[1], E18)
    assert pt.error_name == "EnforcedPause"
    ft = await system.revert_of(who.sovereigns[0], "FoundationToken", "transfer", who.sovereigns[1], E18)
    assert ft.error_name == "EnforcedPause"
    issue = await system.revert_of(who.reserve_manager, "Reserve", "issue", who.traders[0], E18)
    assert issue.error_name == "EnforcedPause"
    assert "TRANSFER_FAILED" in await _pool_swap_error(system, who.traders[1])
    # pausing again is harmless: nothing left to pause
    receipt = await system.send(who.guardian, "EmergencyController", "pauseAll")
    assert await system.events(receipt, "EmergencyController", "AllPaused") == [
        {"by": who.guardian, "count": 0}
    ]


async def test_halt_blocks_pt_transfers_and_pool_swaps(system: System, who: Actors) -> None:
    receipt = await system.send(who.guardian, "EmergencyController", "haltTrading")
    assert await system.events(receipt, "EmergencyController", "TradingHalted") == [{"by": who.guardian}]
    assert await system.view("EmergencyController", "tradingHalted")
    error = await system.revert_of(who.traders[0], "PaymentToken", "transfer", who.traders[1], E18)
    assert (error.error_name, error.error_args) == ("PaymentTokenTradingHalted", ())
    assert "TRANSFER_FAILED" in await _pool_swap_error(system, who.traders[1])
    again = await system.revert_of(who.guardian, "EmergencyController", "haltTrading")
    assert again.error_name == "EmergencyControllerTradingAlreadyHalted"
    # issuance (a mint, not a transfer) is not trading
    await system.send(who.reserve_manager, "Reserve", "issue", who.traders[0], E18)


async def test_guardian_cannot_unpause_or_resume(system: System, who: Actors) -> None:
    await system.send(who.guardian, "EmergencyController", "pauseAll")
    await system.send(who.guardian, "EmergencyController", "haltTrading")
    for fn in ("unpauseAll", "resumeTrading"):
        error = await system.revert_of(who.guardian, "EmergencyController", fn)
        assert error.error_name == "AccessControlUnauthorizedAccount"
        assert error.error_args == (who.guardian, role_id("GOVERNANCE_ROLE"))
    error = await system.revert_of(who.guardian, "PaymentToken", "unpause")
    assert error.error_args == (who.guardian, role_id("PAUSER_ROLE"))


async def test_unpause_and_resume_only_through_the_timelock(system: System, who: Actors) -> None:
    await system.send(who.guardian, "EmergencyController", "pauseAll")
    await system.send(who.guardian, "EmergencyController", "haltTrading")
    target, data, op_id = await schedule(system, who.proposer, "EmergencyController", "unpauseAll")
    # too early: the minimum delay (60 s) has not passed
    early = await system.revert_of(who.proposer, "Timelock", "execute", target, 0, data, ZERO32, ZERO32)
    assert early.error_name == "TimelockUnexpectedOperationState"
    assert early.error_args[0] == op_id
    await system.increase_time(61)
    outsider = await system.revert_of(who.attacker, "Timelock", "execute", target, 0, data, ZERO32, ZERO32)
    assert outsider.error_args == (who.attacker, role_id("EXECUTOR_ROLE"))
    receipt = await system.send(who.proposer, "Timelock", "execute", target, 0, data, ZERO32, ZERO32)
    [event] = await system.events(receipt, "EmergencyController", "AllUnpaused")
    assert event == {"by": system.addr("Timelock"), "count": 3}
    for name in ("FoundationToken", "PaymentToken", "Reserve"):
        assert not await system.view(name, "paused"), name
    halted = await system.revert_of(who.traders[0], "PaymentToken", "transfer", who.traders[1], E18)
    assert halted.error_name == "PaymentTokenTradingHalted"
    receipt = await through_timelock(system, who.proposer, "EmergencyController", "resumeTrading")
    assert await system.events(receipt, "EmergencyController", "TradingResumed") == [
        {"by": system.addr("Timelock")}
    ]
    await system.send(who.traders[0], "PaymentToken", "transfer", who.traders[1], E18)
    await _swap_cash_for_pt(system, who.traders[1], 10 * E18)
    not_halted = await system.revert_of(system.addr("Timelock"), "EmergencyController", "resumeTrading")
    assert not_halted.error_name == "EmergencyControllerTradingNotHalted"


async def test_register_pausable_rejects_duplicates(system: System, who: Actors) -> None:
    pt = system.addr("PaymentToken")
    assert await system.view("EmergencyController", "pausables") == [
        system.addr("FoundationToken"), pt, system.addr("Reserve"),
    ]  # fmt: skip
    timelock = system.addr("Timelock")
    error = await system.revert_of(timelock, "EmergencyController", "registerPausable", pt)
    assert (error.error_name, error.error_args) == ("EmergencyControllerAlreadyRegistered", (pt,))


async def test_unscheduled_execution_reverts(system: System, who: Actors) -> None:
    target = system.addr("EmergencyController")
    data = system.c("EmergencyController").encode_abi("unpauseAll", args=[])
    error = await system.revert_of(who.proposer, "Timelock", "execute", target, 0, data, ZERO32, ZERO32)
    assert error.error_name == "TimelockUnexpectedOperationState"


async def test_a_target_that_cannot_be_paused_does_not_stop_the_others(system: System, who: Actors) -> None:
    feed = system.addr("Feed:BRENT")  # has no pause(): registering it is a misconfiguration
    await through_timelock(system, who.proposer, "EmergencyController", "registerPausable", feed)
    receipt = await system.send(who.guardian, "EmergencyController", "pauseAll")
    assert await system.events(receipt, "EmergencyController", "PauseFailed") == [{"target": feed}]
    assert await system.events(receipt, "EmergencyController", "AllPaused") == [
        {"by": who.guardian, "count": 3}
    ]
    assert await system.view("PaymentToken", "paused")


async def test_register_pausable_rejects_an_address_without_code(system: System, who: Actors) -> None:
    error = await system.revert_of(
        system.addr("Timelock"), "EmergencyController", "registerPausable", who.attacker
    )
    assert (error.error_name, error.error_args) == ("EmergencyControllerNotAContract", (who.attacker,))
