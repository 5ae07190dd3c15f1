"""UUPS upgrades only through the Timelock, and a Governor proposal lifecycle (FT votes -> Timelock)."""

from __future__ import annotations

from contractkit import Actors, System, role_id, through_timelock
from eth_utils.crypto import keccak
from web3.logs import DISCARD

from fictra.chain import artifacts

IMPLEMENTATION_SLOT = "0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc"
E18 = 10**18
# Governor.ProposalState
PENDING, ACTIVE, DEFEATED, SUCCEEDED, QUEUED, EXECUTED = 0, 1, 3, 4, 5, 7


async def _implementation(system: System, proxy: str) -> str:
    raw = await system.rpc("eth_getStorageAt", [proxy, IMPLEMENTATION_SLOT, "latest"])
    return system.w3.to_checksum_address("0x" + raw[-40:])


async def _deploy_impl(system: System, who: Actors, artifact: str) -> str:
    receipt = await system.send_to(who.deployer, None, artifacts.load(artifact).bytecode, context="deploy")
    return str(receipt["contractAddress"])


async def test_payment_token_upgrade_through_the_timelock_keeps_state(system: System, who: Actors) -> None:
    proxy = system.addr("PaymentToken")
    old = await _implementation(system, proxy)
    assert old == system.manifest.contracts["PaymentToken"].implementation
    balance = await system.view("PaymentToken", "balanceOf", who.traders[0])
    supply = await system.view("PaymentToken", "totalSupply")
    new = await _deploy_impl(system, who, "PaymentToken")
    # nobody but the Timelock (UPGRADER_ROLE) may upgrade, not even the old admin roles
    for account in (who.attacker, who.deployer, who.guardian):
        error = await system.revert_of(account, "PaymentToken", "upgradeToAndCall", new, b"")
        assert error.error_name == "AccessControlUnauthorizedAccount"
        assert error.error_args == (account, role_id("UPGRADER_ROLE"))
    receipt = await through_timelock(system, who.proposer, "PaymentToken", "upgradeToAndCall", new, b"")
    upgraded = system.at("ERC1967Proxy", proxy).events.Upgraded()
    assert [dict(e["args"]) for e in upgraded.process_receipt(receipt, errors=DISCARD)] == [
        {"implementation": new}
    ]
    assert await _implementation(system, proxy) == new != old
    assert await system.view("PaymentToken", "balanceOf", who.traders[0]) == balance
    assert await system.view("PaymentToken", "totalSupply") == supply
    assert await system.view("PaymentToken", "feeBps") == 10
    await system.send(who.traders[0], "PaymentToken", "transfer", who.traders[1], E18)


async def test_reserve_upgrade_through_the_timelock(system: System, who: Actors) -> None:
    proxy = system.addr("Reserve")
    new = await _deploy_impl(system, who, "Reserve")
    error = await system.revert_of(who.reserve_manager, "Reserve", "upgradeToAndCall", new, b"")
    assert error.error_args == (who.reserve_manager, role_id("UPGRADER_ROLE"))
    await through_timelock(system, who.proposer, "Reserve", "upgradeToAndCall", new, b"")
    assert await _implementation(system, proxy) == new
    assert await system.view("Reserve", "collateralRatioBps") == 15_000


async def test_upgrade_to_a_non_uups_contract_fails_in_the_timelock(system: System, who: Actors) -> None:
    not_uups = system.addr("Asset:CASH")
    try:
        await through_timelock(system, who.proposer, "PaymentToken", "upgradeToAndCall", not_uups, b"")
    except Exception as exc:
        assert "ERC1967InvalidImplementation" in str(exc)
    else:
        raise AssertionError("upgrading to a non-UUPS contract went through")
    assert await _implementation(system, system.addr("PaymentToken")) != not_uups


async def test_governor_proposal_lifecycle(system: System, who: Actors) -> None:
    s = who.sovereigns
    new_collector = who.traders[5]
    targets = [system.addr("PaymentToken")]
    calldatas = [system.c("PaymentToken").encode_abi("setFeeCollector", args=[new_collector])]
    description = "Send PT fees to the treasury desk"
    desc_hash = keccak(text=description)
    receipt = await system.send(s[0], "Governor", "propose", targets, [0], calldatas, description)
    [created] = await system.events(receipt, "Governor", "ProposalCreated")
    pid = created["proposalId"]
    assert pid == await system.view("Governor", "hashProposal", targets, [0], calldatas, desc_hash)
    assert await system.view("Governor", "state", pid) == PENDING
    early = await system.revert_of(s[1], "Governor", "castVote", pid, 1)
    assert early.error_name == "GovernorUnexpectedProposalState"
    await system.mine(2)
    assert await system.view("Governor", "state", pid) == ACTIVE
    await system.send(s[0], "Governor", "castVote", pid, 1)
    await system.send(s[1], "Governor", "castVote", pid, 1)
    await system.send(s[2], "Governor", "castVote", pid, 0)
    again = await system.revert_of(s[0], "Governor", "castVote", pid, 1)
    assert again.error_name == "GovernorAlreadyCastVote"
    against, for_, abstain = await system.view("Governor", "proposalVotes", pid)
    assert (against, for_, abstain) == (1_000_000 * E18, 2_000_000 * E18, 0)
    await system.mine(int(system.manifest.contracts["Governor"].meta["voting_period_blocks"]) + 1)  # type: ignore[call-overload]
    assert await system.view("Governor", "state", pid) == SUCCEEDED
    await system.send(s[3], "Governor", "queue", targets, [0], calldatas, desc_hash)
    assert await system.view("Governor", "state", pid) == QUEUED
    too_early = await system.revert_of(s[3], "Governor", "execute", targets, [0], calldatas, desc_hash)
    assert too_early.error_name == "TimelockUnexpectedOperationState"
    await system.increase_time(61)
    await system.send(s[3], "Governor", "execute", targets, [0], calldatas, desc_hash)
    assert await system.view("Governor", "state", pid) == EXECUTED
    assert await system.view("PaymentToken", "feeCollector") == new_collector


async def test_governor_proposal_without_votes_is_defeated(system: System, who: Actors) -> None:
    targets = [system.addr("EmergencyController")]
    calldatas = [system.c("EmergencyController").encode_abi("resumeTrading", args=[])]
    description = "Resume trading"
    receipt = await system.send(who.traders[0], "Governor", "propose", targets, [0], calldatas, description)
    [created] = await system.events(receipt, "Governor", "ProposalCreated")
    await system.mine(40)
    assert await system.view("Governor", "state", created["proposalId"]) == DEFEATED
    error = await system.revert_of(
        who.traders[0], "Governor", "queue", targets, [0], calldatas, keccak(text=description)
    )
    assert error.error_name == "GovernorUnexpectedProposalState"
