"""Contract status against the deployed system: pause, trading halt, role grants, reserve breach,
implementation upgrade — each raised at the block where it happened and cleared when undone."""

from __future__ import annotations

import pytest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from fictra.alerting.findings import Severity
from fictra.chain import artifacts
from fictra.chain.manifest import Manifest
from fictra.chain.types import Reorg
from fictra.clock import SystemClock
from fictra.errors import ConfigError
from fictra.monitors.config import ContractStatusMonitor
from fictra.monitors.contracts import ContractStatusCheck
from monitors.rig import E18, Rig, by_condition, cleared, who

WATCHED = ["PaymentToken", "FoundationToken", "Reserve", "EmergencyController", "Timelock"]


def check(rig: Rig, **kwargs: object) -> ContractStatusCheck:
    config = ContractStatusMonitor.model_validate(
        {"type": "contract_status", "name": "status", "contracts": WATCHED, "confirmations": 2, **kwargs}
    )
    return ContractStatusCheck(config=config, manifest=rig.manifest, pool=rig.pool, clock=SystemClock())


async def test_quiet_system_has_no_findings(rig: Rig) -> None:
    monitor = check(rig)
    await rig.dev.mine(2)
    out = await rig.run(monitor)
    assert out.findings == [] and out.clears == []


async def test_pause_all_raises_one_p0_listing_the_contracts_and_clears_on_unpause(rig: Rig) -> None:
    monitor = check(rig)
    receipt = await rig.send(who("guardian"), "EmergencyController", "pauseAll")
    out = await rig.run(monitor)
    (paused,) = by_condition(out, "paused")
    assert paused.labels == {"condition": "paused"}
    assert paused.severity is Severity.P0 and paused.monitor == "status" and paused.confirmations == 2
    assert paused.block is not None and paused.block.number == receipt["blockNumber"]
    assert paused.evidence["contracts"] == ["FoundationToken", "PaymentToken", "Reserve"]
    assert "FoundationToken, PaymentToken, Reserve" in paused.summary
    await rig.dev.mine(1)
    again = await rig.run(monitor)
    assert by_condition(again, "paused") == [], "a condition that holds is reported once"
    await rig.as_timelock("EmergencyController", "unpauseAll")
    done = await rig.run(monitor)
    assert cleared(done, "paused") == [{"condition": "paused"}]
    assert done.findings == []


async def test_trading_halt_and_resume(rig: Rig) -> None:
    monitor = check(rig)
    await rig.send(who("guardian"), "EmergencyController", "haltTrading")
    out = await rig.run(monitor)
    (halted,) = by_condition(out, "trading_halted")
    assert halted.labels == {"contract": "EmergencyController", "condition": "trading_halted"}
    assert halted.severity is Severity.P0
    await rig.as_timelock("EmergencyController", "resumeTrading")
    assert cleared(await rig.run(monitor), "trading_halted") == [halted.labels]


async def test_role_grant_to_attacker_is_unauthorized_p0(rig: Rig) -> None:
    monitor = check(rig)
    role = keccak(text="PAUSER_ROLE")
    receipt = await rig.as_timelock("PaymentToken", "grantRole", role, who("attacker"))
    out = await rig.run(monitor)
    (bad,) = by_condition(out, "unauthorized_role_grant")
    attacker = who("attacker").lower()
    assert bad.severity is Severity.P0
    assert bad.labels == {
        "contract": "PaymentToken",
        "condition": "unauthorized_role_grant",
        "role": "PAUSER_ROLE",
        "account": attacker,
    }
    assert bad.evidence["sender"] == rig.manifest.address("Timelock").lower()
    assert bad.tx_hashes == ("0x" + receipt["transactionHash"].hex().removeprefix("0x"),)
    await rig.as_timelock("PaymentToken", "revokeRole", role, who("attacker"))
    after = await rig.run(monitor)
    revoked = by_condition(after, "role_revoked")
    assert [f.severity for f in revoked] == [Severity.P2] and revoked[0].labels["account"] == attacker
    assert cleared(after, "unauthorized_role_grant") == [bad.labels]


async def test_role_grant_to_known_account_is_info(rig: Rig) -> None:
    monitor = check(rig)
    await rig.as_timelock("PaymentToken", "grantRole", keccak(text="FEE_MANAGER_ROLE"), who("guardian"))
    out = await rig.run(monitor)
    assert by_condition(out, "unauthorized_role_grant") == []
    (info,) = by_condition(out, "role_granted")
    assert info.severity is Severity.P2 and info.labels["role"] == "FEE_MANAGER_ROLE"


async def test_authorized_accounts_extend_the_trusted_set(rig: Rig) -> None:
    monitor = check(rig, authorized_accounts=[who("attacker")])
    await rig.as_timelock("Reserve", "grantRole", keccak(text="PAUSER_ROLE"), who("attacker"))
    out = await rig.run(monitor)
    assert by_condition(out, "unauthorized_role_grant") == [] and len(by_condition(out, "role_granted")) == 1


async def test_reserve_withdrawal_breaking_collateral_and_redeposit(rig: Rig) -> None:
    monitor = check(rig)
    manager, gold = who("reserve_manager"), rig.manifest.address("Asset:GOLD")
    amount = 600 * E18  # 1.2M USD of gold: 2.1M reserve vs 2.2M PT
    receipt = await rig.send(manager, "Reserve", "withdraw", gold, amount, manager)
    out = await rig.run(monitor)
    (breach,) = by_condition(out, "reserve_breach")
    assert breach.severity is Severity.P0
    assert breach.labels == {"contract": "Reserve", "condition": "reserve_breach"}
    assert breach.evidence["threshold"] == 1.0
    assert 0.9 < float(breach.evidence["observed_ratio"]) < 1.0  # type: ignore[arg-type]
    tx = "0x" + receipt["transactionHash"].hex().removeprefix("0x")
    assert breach.evidence["withdrawals"] == [tx] and breach.tx_hashes == (tx,)
    await rig.send(manager, "Asset:GOLD", "approve", rig.manifest.address("Reserve"), amount)
    await rig.send(manager, "Reserve", "deposit", gold, amount)
    assert cleared(await rig.run(monitor), "reserve_breach") == [breach.labels]


async def test_collateral_threshold_disabled(rig: Rig) -> None:
    monitor = check(rig, thresholds={"min_collateral_ratio": None})
    manager = who("reserve_manager")
    await rig.send(manager, "Reserve", "withdraw", rig.manifest.address("Asset:GOLD"), 600 * E18, manager)
    assert by_condition(await rig.run(monitor), "reserve_breach") == []


async def test_upgrade_changes_implementation_slot(rig: Rig) -> None:
    monitor = check(rig)
    await rig.dev.mine(1)
    await rig.run(monitor)
    impl = artifacts.load("PaymentToken")
    deployer = who("deployer")
    tx_hash = await rig.dev.rpc.call(
        "eth_sendTransaction", [{"from": deployer, "data": impl.bytecode, "gas": hex(8_000_000)}]
    )
    new_impl = str((await rig.dev.receipt(tx_hash))["contractAddress"]).lower()
    receipt = await rig.as_timelock("PaymentToken", "upgradeToAndCall", to_checksum_address(new_impl), b"")
    out = await rig.run(monitor)
    (changed,) = by_condition(out, "implementation_changed")  # the Upgraded log; the slot read agrees
    assert changed.tx_hashes == ("0x" + receipt["transactionHash"].hex().removeprefix("0x"),)
    assert changed.block is not None and changed.block.number == receipt["blockNumber"]
    assert changed.severity is Severity.P0 and changed.labels["contract"] == "PaymentToken"
    assert changed.evidence["observed"] == new_impl
    assert changed.evidence["expected"] == str(rig.manifest.contracts["PaymentToken"].implementation).lower()


async def test_upgrade_and_rollback_within_one_batch_is_seen(rig: Rig) -> None:
    monitor = check(rig)
    original = to_checksum_address(str(rig.manifest.contracts["PaymentToken"].implementation))
    tx_hash = await rig.dev.rpc.call(
        "eth_sendTransaction",
        [{"from": who("deployer"), "data": artifacts.load("PaymentToken").bytecode, "gas": hex(8_000_000)}],
    )
    other = to_checksum_address(str((await rig.dev.receipt(tx_hash))["contractAddress"]))
    await rig.as_timelock("PaymentToken", "upgradeToAndCall", other, b"")
    await rig.as_timelock("PaymentToken", "upgradeToAndCall", original, b"")
    changes = by_condition(await rig.run(monitor), "implementation_changed")
    assert [c.evidence["observed"] for c in changes] == [other.lower(), original.lower()]


def test_unknown_contract_is_a_config_error(monitors_manifest: Manifest) -> None:
    config = ContractStatusMonitor(type="contract_status", name="status", contracts=["Nope"])
    with pytest.raises(ConfigError, match="Nope") as err:
        ContractStatusCheck(config=config, manifest=monitors_manifest, pool=None, clock=SystemClock())  # type: ignore[arg-type]
    assert "Known:" in err.value.user_message


async def test_code_change_is_seen_at_the_next_code_check(rig: Rig) -> None:
    monitor = check(rig, interval="30s")
    await rig.dev.mine(1)
    assert (await rig.run(monitor)).findings == []  # first check: the code hashes are learned
    target = rig.manifest.address("FoundationToken")
    await rig.rpc("anvil_setCode", [target, artifacts.load("ReserveAsset").deployed_bytecode])
    await rig.dev.mine(1)
    assert by_condition(await rig.run(monitor), "code_changed") == [], "not checked again within 30s"
    await rig.dev.increase_time(31)
    (changed,) = by_condition(await rig.run(monitor), "code_changed")
    assert changed.severity is Severity.P0 and changed.labels == {
        "contract": "FoundationToken",
        "condition": "code_changed",
    }
    assert changed.evidence["observed"] != changed.evidence["expected"]


async def test_known_code_hashes_survive_a_restart(rig: Rig) -> None:
    """A code change made while the platform was down is still seen by the next instance."""
    first = check(rig)
    await rig.dev.mine(1)
    await rig.run(first)
    target = rig.manifest.address("FoundationToken")
    await rig.rpc("anvil_setCode", [target, artifacts.load("ReserveAsset").deployed_bytecode])
    await rig.dev.mine(1)
    restarted = check(rig)  # same session: the stored hashes are visible (not yet committed)
    (changed,) = by_condition(await rig.run(restarted), "code_changed")
    assert changed.labels["contract"] == "FoundationToken"


async def test_upgrade_reorged_away_is_not_a_change_back(rig: Rig) -> None:
    monitor = check(rig)
    await rig.dev.mine(1)
    await rig.run(monitor)
    ancestor = await rig.mark()
    snap = await rig.rpc("evm_snapshot", [])
    tx_hash = await rig.dev.rpc.call(
        "eth_sendTransaction",
        [{"from": who("deployer"), "data": artifacts.load("PaymentToken").bytecode, "gas": hex(8_000_000)}],
    )
    other = to_checksum_address(str((await rig.dev.receipt(tx_hash))["contractAddress"]))
    await rig.as_timelock("PaymentToken", "upgradeToAndCall", other, b"")
    assert len(by_condition(await rig.run(monitor), "implementation_changed")) == 1
    assert await rig.rpc("evm_revert", [snap])
    reorg = Reorg(network="devnet", common_ancestor=ancestor, depth=rig.seen - ancestor, old_hashes=())
    await monitor.on_reorg(reorg, rig.session)
    rig.seen = ancestor
    await rig.dev.mine(2)
    assert by_condition(await rig.run(monitor), "implementation_changed") == []


async def test_oracle_node_role_granted_on_a_feed_to_an_outsider_is_p0(rig: Rig) -> None:
    """Feeds are role-bearing contracts too: watched like the tokens when listed (the shipped config does)."""
    monitor = check(rig, contracts=[*WATCHED, "Feed:BRENT"])
    role = keccak(text="ORACLE_NODE_ROLE")
    await rig.as_timelock("Feed:BRENT", "grantRole", role, who("attacker"))
    (bad,) = by_condition(await rig.run(monitor), "unauthorized_role_grant")
    assert bad.severity is Severity.P0
    assert bad.labels["contract"] == "Feed:BRENT" and bad.labels["role"] == "ORACLE_NODE_ROLE"
