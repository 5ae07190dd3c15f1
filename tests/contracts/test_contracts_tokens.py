"""FoundationToken allocations and holder authorization; PaymentToken fee bound, fee collection and
blocklist."""

from __future__ import annotations

import pytest
from contractkit import Actors, System

from fictra.chain.revert import decode_revert, revert_data_from
from fictra.errors import ContractError

E18 = 10**18
SOV1 = b"SOVEREIGN-1".ljust(32, b"\x00")
CAP = 10_000_000 * E18
ISSUED = 1_000_000 * E18


# -- FoundationToken ----------------------------------------------------------------------------------


async def test_sovereign_allocation_is_registered_and_partly_issued(system: System, who: Actors) -> None:
    holder, cap, issued = await system.view("FoundationToken", "allocation", SOV1)
    assert (holder, cap, issued) == (who.sovereigns[0], CAP, ISSUED)
    assert await system.view("FoundationToken", "balanceOf", who.sovereigns[0]) == ISSUED
    assert await system.view("FoundationToken", "getVotes", who.sovereigns[0]) == ISSUED
    assert await system.view("FoundationToken", "symbol") == "FT"


async def test_issue_up_to_the_cap_then_above_it_reverts(system: System, who: Actors) -> None:
    remaining = CAP - ISSUED
    error = await system.revert_of(who.issuer, "FoundationToken", "issue", SOV1, remaining + 1)
    assert error.error_name == "FoundationTokenAllocationExceeded"
    assert error.error_args == (SOV1, remaining + 1, remaining)
    receipt = await system.send(who.issuer, "FoundationToken", "issue", SOV1, remaining)
    [event] = await system.events(receipt, "FoundationToken", "TokensIssued")
    assert event["amount"] == remaining and event["holder"] == who.sovereigns[0]
    error = await system.revert_of(who.issuer, "FoundationToken", "issue", SOV1, 1)
    assert error.error_args == (SOV1, 1, 0)


async def test_issue_for_an_unknown_sovereign_reverts(system: System, who: Actors) -> None:
    unknown = b"NOBODY".ljust(32, b"\x00")
    error = await system.revert_of(who.issuer, "FoundationToken", "issue", unknown, 1)
    assert (error.error_name, error.error_args) == ("FoundationTokenUnknownSovereign", (unknown,))


async def test_transfers_only_between_authorized_holders(system: System, who: Actors) -> None:
    s1, s2, outsider = who.sovereigns[0], who.sovereigns[1], who.traders[0]
    error = await system.revert_of(s1, "FoundationToken", "transfer", outsider, E18)
    assert error.error_name == "FoundationTokenUnauthorizedTransfer"
    assert error.error_args == (s1, outsider)
    await system.send(s1, "FoundationToken", "transfer", s2, E18)
    assert await system.view("FoundationToken", "balanceOf", s2) == ISSUED + E18
    receipt = await system.send(who.transfer_agent, "FoundationToken", "revokeHolder", s2)
    assert await system.events(receipt, "FoundationToken", "HolderRevoked") == [{"account": s2}]
    error = await system.revert_of(s1, "FoundationToken", "transfer", s2, E18)
    assert error.error_args == (s1, s2)
    error = await system.revert_of(s2, "FoundationToken", "transfer", s1, E18)
    assert error.error_args == (s2, s1)
    receipt = await system.send(who.transfer_agent, "FoundationToken", "authorizeHolder", outsider)
    assert await system.events(receipt, "FoundationToken", "HolderAuthorized") == [{"account": outsider}]
    await system.send(s1, "FoundationToken", "transfer", outsider, E18)
    assert await system.view("FoundationToken", "isAuthorizedHolder", outsider)


async def test_register_sovereign_twice_reverts(system: System, who: Actors) -> None:
    timelock = system.addr("Timelock")
    await system.rpc("anvil_impersonateAccount", [timelock])
    await system.rpc("anvil_setBalance", [timelock, hex(10 * E18)])
    error = await system.revert_of(timelock, "FoundationToken", "registerSovereign", SOV1, who.attacker, 1)
    assert (error.error_name, error.error_args) == ("FoundationTokenSovereignExists", (SOV1,))
    await system.rpc("anvil_stopImpersonatingAccount", [timelock])


# -- PaymentToken -------------------------------------------------------------------------------------


async def test_fee_above_the_bound_reverts_and_a_valid_change_emits_fee_changed(
    system: System, who: Actors
) -> None:
    assert await system.view("PaymentToken", "MAX_FEE_BPS") == 100
    error = await system.revert_of(who.fee_manager, "PaymentToken", "setFee", 101)
    assert error.error_name == "PaymentTokenFeeAboveMaximum"
    assert error.error_args == (101, 100)
    assert "PaymentTokenFeeAboveMaximum(fee=101, max=100)" in error.user_message
    receipt = await system.send(who.fee_manager, "PaymentToken", "setFee", 100)
    assert await system.events(receipt, "PaymentToken", "FeeChanged") == [{"oldFeeBps": 10, "newFeeBps": 100}]
    assert await system.view("PaymentToken", "feeBps") == 100


async def test_transfer_fee_goes_to_the_collector(system: System, who: Actors) -> None:
    a, b = who.traders[0], who.traders[1]
    collector = await system.view("PaymentToken", "feeCollector")
    assert collector == system.addr("Timelock")
    before_b = await system.view("PaymentToken", "balanceOf", b)
    before_c = await system.view("PaymentToken", "balanceOf", collector)
    await system.send(a, "PaymentToken", "transfer", b, 1000 * E18)
    assert await system.view("PaymentToken", "balanceOf", b) - before_b == 999 * E18
    assert await system.view("PaymentToken", "balanceOf", collector) - before_c == E18
    await system.send(who.fee_manager, "PaymentToken", "setFee", 0)
    await system.send(a, "PaymentToken", "transfer", b, 1000 * E18)
    assert await system.view("PaymentToken", "balanceOf", b) - before_b == 1999 * E18


async def test_blocked_address_can_neither_send_nor_receive(system: System, who: Actors) -> None:
    bad, good = who.traders[0], who.traders[1]
    receipt = await system.send(who.reserve_manager, "PaymentToken", "blockAddress", bad)
    assert await system.events(receipt, "PaymentToken", "AddressBlocked") == [{"account": bad}]
    assert await system.view("PaymentToken", "isBlocked", bad)
    sent = await system.revert_of(bad, "PaymentToken", "transfer", good, E18)
    assert (sent.error_name, sent.error_args) == ("PaymentTokenBlockedAddress", (bad,))
    received = await system.revert_of(good, "PaymentToken", "transfer", bad, E18)
    assert (received.error_name, received.error_args) == ("PaymentTokenBlockedAddress", (bad,))
    # transferFrom by a third party is blocked too
    await system.send(bad, "PaymentToken", "approve", good, E18)
    pulled = await system.revert_of(good, "PaymentToken", "transferFrom", bad, good, E18)
    assert pulled.error_args == (bad,)
    # and the Reserve cannot issue to a blocked address
    minted = await system.revert_of(who.reserve_manager, "Reserve", "issue", bad, E18)
    assert minted.error_args == (bad,)
    receipt = await system.send(who.reserve_manager, "PaymentToken", "unblockAddress", bad)
    assert await system.events(receipt, "PaymentToken", "AddressUnblocked") == [{"account": bad}]
    await system.send(bad, "PaymentToken", "transfer", good, E18)


async def test_failed_send_raises_the_decoded_contract_error(system: System, who: Actors) -> None:
    with pytest.raises(ContractError) as caught:
        await system.send(who.fee_manager, "PaymentToken", "setFee", 500)
    assert caught.value.error_name == "PaymentTokenFeeAboveMaximum"
    assert caught.value.error_args == (500, 100)


async def test_implementation_cannot_be_initialized_and_proxy_not_twice(system: System, who: Actors) -> None:
    impl = system.manifest.contracts["PaymentToken"].implementation
    assert impl is not None
    contract = system.at("PaymentToken", impl)
    data = contract.encode_abi("initialize", args=[who.attacker, who.attacker, who.attacker, 0])
    for target in (impl, system.addr("PaymentToken")):
        response = await system.w3.provider.make_request(
            "eth_call", [{"from": who.attacker, "to": target, "data": data}, "latest"]
        )
        assert decode_revert(revert_data_from(response["error"])).error_name == "InvalidInitialization"


async def test_burn_above_balance_and_pause_block_issuance(system: System, who: Actors) -> None:
    trader = who.traders[0]
    balance = await system.view("PaymentToken", "balanceOf", trader)
    error = await system.revert_of(who.reserve_manager, "Reserve", "redeem", trader, balance + 1)
    assert error.error_name == "ERC20InsufficientBalance"
    assert error.error_args == (trader, balance, balance + 1)
    ec = system.addr("EmergencyController")
    await system.rpc("anvil_impersonateAccount", [ec])
    await system.rpc("anvil_setBalance", [ec, hex(10 * E18)])
    await system.send(ec, "FoundationToken", "pause")
    await system.rpc("anvil_stopImpersonatingAccount", [ec])
    error = await system.revert_of(who.issuer, "FoundationToken", "issue", SOV1, 1)
    assert error.error_name == "EnforcedPause"
