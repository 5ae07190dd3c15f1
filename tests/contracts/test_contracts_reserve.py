"""Reserve: secure-mint rule, valuation by feed prices, and a drain being possible (for monitoring)."""

from __future__ import annotations

from contractkit import Actors, System

E18 = 10**18
SUPPLY = 2_200_000 * E18
VALUE = 3_300_000 * E18
MAX_UINT = 2**256 - 1


async def test_seeded_reserve_is_150_percent_collateralized(system: System) -> None:
    assert await system.view("PaymentToken", "totalSupply") == SUPPLY
    assert await system.view("Reserve", "reserveValue") == VALUE
    assert await system.view("Reserve", "collateralRatioBps") == 15_000
    assets = await system.view("Reserve", "assets")
    assert assets == [system.addr("Asset:CASH"), system.addr("Asset:TBILL"), system.addr("Asset:GOLD")]
    assert await system.view("Reserve", "feedOf", system.addr("Asset:GOLD")) == system.addr("Feed:GOLD")


async def test_issue_beyond_the_reserve_value_reverts(system: System, who: Actors) -> None:
    headroom = VALUE - SUPPLY
    error = await system.revert_of(who.reserve_manager, "Reserve", "issue", who.traders[0], headroom + 1)
    assert error.error_name == "ReserveInsufficientCollateral"
    assert error.error_args == (VALUE + 1, VALUE)
    receipt = await system.send(who.reserve_manager, "Reserve", "issue", who.traders[0], headroom)
    [event] = await system.events(receipt, "Reserve", "PaymentTokenIssued")
    assert event == {"to": who.traders[0], "amount": headroom}
    assert await system.view("Reserve", "collateralRatioBps") == 10_000


async def test_withdraw_is_not_limited_by_collateral_so_a_drain_is_possible(
    system: System, who: Actors
) -> None:
    cash = system.addr("Asset:CASH")
    held = await system.view("Asset:CASH", "balanceOf", system.addr("Reserve"))
    receipt = await system.send(who.reserve_manager, "Reserve", "withdraw", cash, held, who.attacker)
    [event] = await system.events(receipt, "Reserve", "Withdrawn")
    assert event == {"asset": cash, "amount": held, "to": who.attacker}
    assert await system.view("Reserve", "reserveValue") == VALUE - held
    assert await system.view("Reserve", "collateralRatioBps") == (VALUE - held) * 10_000 // SUPPLY
    gold = system.addr("Asset:GOLD")
    await system.send(who.reserve_manager, "Reserve", "withdraw", gold, 100 * E18, who.attacker)
    assert (
        await system.view("Reserve", "collateralRatioBps")
        == (VALUE - held - 200_000 * E18) * 10_000 // SUPPLY
    )
    assert await system.view("Reserve", "collateralRatioBps") < 10_000
    error = await system.revert_of(who.reserve_manager, "Reserve", "issue", who.traders[0], 1)
    assert error.error_name == "ReserveInsufficientCollateral"


async def test_deposit_and_redeem(system: System, who: Actors) -> None:
    gold = system.addr("Asset:GOLD")
    timelock_free = who.deployer  # the asset owner mints to the manager, who deposits
    await system.send(timelock_free, "Asset:GOLD", "mint", who.reserve_manager, 10 * E18)
    await system.send(who.reserve_manager, "Asset:GOLD", "approve", system.addr("Reserve"), 10 * E18)
    receipt = await system.send(who.reserve_manager, "Reserve", "deposit", gold, 10 * E18)
    [event] = await system.events(receipt, "Reserve", "Deposited")
    assert event == {"asset": gold, "amount": 10 * E18, "by": who.reserve_manager}
    assert await system.view("Reserve", "reserveValue") == VALUE + 20_000 * E18
    receipt = await system.send(who.reserve_manager, "Reserve", "redeem", who.traders[0], 1000 * E18)
    assert await system.events(receipt, "Reserve", "PaymentTokenRedeemed") == [
        {"from": who.traders[0], "amount": 1000 * E18}
    ]
    assert await system.view("PaymentToken", "totalSupply") == SUPPLY - 1000 * E18


async def test_unknown_asset_is_rejected(system: System, who: Actors) -> None:
    pt = system.addr("PaymentToken")
    error = await system.revert_of(who.reserve_manager, "Reserve", "withdraw", pt, 1, who.attacker)
    assert (error.error_name, error.error_args) == ("ReserveUnknownAsset", (pt,))
    error = await system.revert_of(who.reserve_manager, "Reserve", "deposit", pt, 1)
    assert error.error_args == (pt,)


async def test_reserve_value_follows_the_feed_price(system: System, who: Actors) -> None:
    # GOLD doubles (600 oz: +1.2M USD)
    for node in who.nodes[:3]:
        await system.send(node, "Feed:GOLD", "submit", 2, 4000 * 10**8)
    assert await system.view("Reserve", "reserveValue") == VALUE + 1_200_000 * E18


async def test_collateral_ratio_is_max_without_supply(system: System, who: Actors) -> None:
    for trader in who.traders:
        balance = await system.view("PaymentToken", "balanceOf", trader)
        await system.send(who.reserve_manager, "Reserve", "redeem", trader, balance)
    pool = system.addr("Pool:PT-CASH")
    await system.send(
        who.reserve_manager, "Reserve", "redeem", pool, await system.view("PaymentToken", "balanceOf", pool)
    )
    fees = await system.view("PaymentToken", "balanceOf", system.addr("Timelock"))
    if fees:
        await system.send(who.reserve_manager, "Reserve", "redeem", system.addr("Timelock"), fees)
    assert await system.view("PaymentToken", "totalSupply") == 0
    assert await system.view("Reserve", "collateralRatioBps") == MAX_UINT


async def test_non_positive_price_counts_as_zero(system: System, who: Actors) -> None:
    for node in who.nodes[:3]:
        await system.send(node, "Feed:CASH", "submit", 2, -1)
    assert (await system.view("Feed:CASH", "latestRoundData"))[1] == -1
    assert await system.view("Reserve", "reserveValue") == VALUE - 1_100_000 * E18
