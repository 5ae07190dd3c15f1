"""Every role-restricted function, called by the wrong account, reverts with the decoded
AccessControlUnauthorizedAccount(account, neededRole) (or Ownable's error for ReserveAsset)."""

from __future__ import annotations

from typing import Any

import pytest
from contractkit import Actors, System, role_id

ZERO32 = b"\x00" * 32
SOV = b"SOVEREIGN-1".ljust(32, b"\x00")
ONE = 10**18
ADDR = "0x000000000000000000000000000000000000dEaD"

# (manifest name, function, args (callables get the System), role the caller lacks)
CASES: list[tuple[str, str, tuple[Any, ...], str]] = [
    ("FoundationToken", "registerSovereign", (b"NEW".ljust(32, b"\x00"), ADDR, ONE), "DEFAULT_ADMIN_ROLE"),
    ("FoundationToken", "issue", (SOV, ONE), "ISSUER_ROLE"),
    ("FoundationToken", "authorizeHolder", (ADDR,), "TRANSFER_AGENT_ROLE"),
    ("FoundationToken", "revokeHolder", (ADDR,), "TRANSFER_AGENT_ROLE"),
    ("FoundationToken", "pause", (), "PAUSER_ROLE"),
    ("FoundationToken", "unpause", (), "PAUSER_ROLE"),
    ("FoundationToken", "grantRole", (role_id("ISSUER_ROLE"), ADDR), "DEFAULT_ADMIN_ROLE"),
    ("PaymentToken", "mint", (ADDR, ONE), "RESERVE_ROLE"),
    ("PaymentToken", "burn", (ADDR, ONE), "RESERVE_ROLE"),
    ("PaymentToken", "setFee", (5,), "FEE_MANAGER_ROLE"),
    ("PaymentToken", "setFeeCollector", (ADDR,), "DEFAULT_ADMIN_ROLE"),
    ("PaymentToken", "blockAddress", (ADDR,), "COMPLIANCE_ROLE"),
    ("PaymentToken", "unblockAddress", (ADDR,), "COMPLIANCE_ROLE"),
    ("PaymentToken", "pause", (), "PAUSER_ROLE"),
    ("PaymentToken", "unpause", (), "PAUSER_ROLE"),
    ("PaymentToken", "upgradeToAndCall", (ADDR, b""), "UPGRADER_ROLE"),
    ("PaymentToken", "grantRole", (role_id("RESERVE_ROLE"), ADDR), "DEFAULT_ADMIN_ROLE"),
    ("Reserve", "addAsset", (ADDR, ADDR), "DEFAULT_ADMIN_ROLE"),
    ("Reserve", "deposit", ("asset:CASH", ONE), "RESERVE_MANAGER_ROLE"),
    ("Reserve", "withdraw", ("asset:CASH", ONE, ADDR), "RESERVE_MANAGER_ROLE"),
    ("Reserve", "issue", (ADDR, ONE), "RESERVE_MANAGER_ROLE"),
    ("Reserve", "redeem", (ADDR, ONE), "RESERVE_MANAGER_ROLE"),
    ("Reserve", "pause", (), "PAUSER_ROLE"),
    ("Reserve", "unpause", (), "PAUSER_ROLE"),
    ("Reserve", "upgradeToAndCall", (ADDR, b""), "UPGRADER_ROLE"),
    ("EmergencyController", "registerPausable", (ADDR,), "GOVERNANCE_ROLE"),
    ("EmergencyController", "pauseAll", (), "GUARDIAN_ROLE"),
    ("EmergencyController", "haltTrading", (), "GUARDIAN_ROLE"),
    ("EmergencyController", "unpauseAll", (), "GOVERNANCE_ROLE"),
    ("EmergencyController", "resumeTrading", (), "GOVERNANCE_ROLE"),
    ("EmergencyController", "grantRole", (role_id("GUARDIAN_ROLE"), ADDR), "DEFAULT_ADMIN_ROLE"),
    ("Feed:BRENT", "submit", (2, 8_000_000_000), "ORACLE_NODE_ROLE"),
    ("Feed:CASH", "submit", (2, 100_000_000), "ORACLE_NODE_ROLE"),
    ("Feed:BRENT", "grantRole", (role_id("ORACLE_NODE_ROLE"), ADDR), "DEFAULT_ADMIN_ROLE"),
    ("Timelock", "schedule", (ADDR, 0, b"", ZERO32, ZERO32, 60), "PROPOSER_ROLE"),
    ("Timelock", "execute", (ADDR, 0, b"", ZERO32, ZERO32), "EXECUTOR_ROLE"),
    ("Timelock", "cancel", (ZERO32,), "CANCELLER_ROLE"),
]


def _resolve(system: System, args: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(
        system.addr("Asset:" + a.split(":", 1)[1]) if isinstance(a, str) and a.startswith("asset:") else a
        for a in args
    )


@pytest.mark.parametrize(("name", "fn", "args", "needed"), CASES, ids=[f"{c[0]}.{c[1]}" for c in CASES])
async def test_wrong_caller_is_rejected_with_the_role(
    system: System, who: Actors, name: str, fn: str, args: tuple[Any, ...], needed: str
) -> None:
    error = await system.revert_of(who.attacker, name, fn, *_resolve(system, args))
    assert error.error_name == "AccessControlUnauthorizedAccount", error.user_message
    assert error.error_args == (who.attacker, role_id(needed))
    assert f"account={who.attacker}" in error.user_message


@pytest.mark.parametrize("holder", ["guardian", "issuer", "fee_manager", "reserve_manager"])
async def test_role_holders_cannot_use_other_roles(system: System, who: Actors, holder: str) -> None:
    """Holding one role does not open another: e.g. the fee manager cannot mint or upgrade."""
    account = getattr(who, holder)
    error = await system.revert_of(account, "PaymentToken", "mint", account, ONE)
    assert error.error_args == (account, role_id("RESERVE_ROLE"))
    error = await system.revert_of(account, "PaymentToken", "upgradeToAndCall", ADDR, b"")
    assert error.error_args == (account, role_id("UPGRADER_ROLE"))


@pytest.mark.parametrize("asset", ["Asset:CASH", "Asset:TBILL", "Asset:GOLD"])
async def test_reserve_asset_mint_is_owner_only(system: System, who: Actors, asset: str) -> None:
    error = await system.revert_of(who.attacker, asset, "mint", who.attacker, ONE)
    assert error.error_name == "OwnableUnauthorizedAccount"
    assert error.error_args == (who.attacker,)


async def test_the_deployer_kept_no_admin_power(system: System, who: Actors) -> None:
    timelock = system.addr("Timelock")
    for name in (
        "FoundationToken",
        "PaymentToken",
        "Reserve",
        "EmergencyController",
        "Timelock",
        "Feed:GOLD",
    ):
        assert not await system.view(name, "hasRole", ZERO32, who.deployer), name
        assert await system.view(name, "hasRole", ZERO32, timelock), name
    assert not await system.view("EmergencyController", "hasRole", role_id("GOVERNANCE_ROLE"), who.deployer)
    error = await system.revert_of(who.deployer, "PaymentToken", "grantRole", role_id("RESERVE_ROLE"), ADDR)
    assert error.error_args == (who.deployer, role_id("DEFAULT_ADMIN_ROLE"))


async def test_roles_are_held_as_the_spec_says(system: System, who: Actors) -> None:
    ec, timelock, reserve = (
        system.addr("EmergencyController"),
        system.addr("Timelock"),
        system.addr("Reserve"),
    )
    expected = [
        ("FoundationToken", "ISSUER_ROLE", who.issuer),
        ("FoundationToken", "TRANSFER_AGENT_ROLE", who.transfer_agent),
        ("FoundationToken", "PAUSER_ROLE", ec),
        ("PaymentToken", "RESERVE_ROLE", reserve),
        ("PaymentToken", "FEE_MANAGER_ROLE", who.fee_manager),
        ("PaymentToken", "COMPLIANCE_ROLE", who.reserve_manager),
        ("PaymentToken", "PAUSER_ROLE", ec),
        ("PaymentToken", "UPGRADER_ROLE", timelock),
        ("Reserve", "RESERVE_MANAGER_ROLE", who.reserve_manager),
        ("Reserve", "PAUSER_ROLE", ec),
        ("Reserve", "UPGRADER_ROLE", timelock),
        ("EmergencyController", "GUARDIAN_ROLE", who.guardian),
        ("EmergencyController", "GOVERNANCE_ROLE", timelock),
        ("Timelock", "PROPOSER_ROLE", who.proposer),
        ("Timelock", "PROPOSER_ROLE", system.addr("Governor")),
        ("Timelock", "EXECUTOR_ROLE", who.proposer),
        ("Timelock", "EXECUTOR_ROLE", system.addr("Governor")),
    ]
    for name, role_name, account in expected:
        assert await system.view(name, "hasRole", role_id(role_name), account), (name, role_name)
    assert not await system.view("PaymentToken", "hasRole", role_id("UPGRADER_ROLE"), who.guardian)
    for feed in [n for n in system.manifest.contracts if n.startswith("Feed:")]:
        assert sorted(await system.view(feed, "oracleNodes")) == sorted(who.nodes)


# Functions guarded by something other than AccessControl: (name, fn, args, error name, args builder)
OTHER_GUARDS: list[tuple[str, str, tuple[Any, ...], str]] = [
    ("Timelock", "updateDelay", (1,), "TimelockUnauthorizedCaller"),
    ("Governor", "setVotingDelay", (0,), "GovernorOnlyExecutor"),
    ("Governor", "setVotingPeriod", (5,), "GovernorOnlyExecutor"),
    ("Governor", "setProposalThreshold", (0,), "GovernorOnlyExecutor"),
    ("Governor", "updateQuorumNumerator", (1,), "GovernorOnlyExecutor"),
    ("Governor", "updateTimelock", (ADDR,), "GovernorOnlyExecutor"),
    ("Governor", "relay", (ADDR, 0, b""), "GovernorOnlyExecutor"),
]


@pytest.mark.parametrize(
    ("name", "fn", "args", "error_name"), OTHER_GUARDS, ids=[f"{c[0]}.{c[1]}" for c in OTHER_GUARDS]
)
async def test_governance_only_functions_reject_outsiders(
    system: System, who: Actors, name: str, fn: str, args: tuple[Any, ...], error_name: str
) -> None:
    error = await system.revert_of(who.attacker, name, fn, *args)
    assert (error.error_name, error.error_args) == (error_name, (who.attacker,))


async def test_uniswap_factory_fee_switch_is_forbidden_to_outsiders(system: System, who: Actors) -> None:
    error = await system.revert_of(who.attacker, "UniswapV2Factory", "setFeeTo", who.attacker)
    assert (error.error_name, error.error_args) == ("Error", ("UniswapV2: FORBIDDEN",))


async def test_timelock_refuses_a_delay_below_the_minimum(system: System, who: Actors) -> None:
    error = await system.revert_of(who.proposer, "Timelock", "schedule", ADDR, 0, b"", ZERO32, ZERO32, 59)
    assert (error.error_name, error.error_args) == ("TimelockInsufficientDelay", (59, 60))
