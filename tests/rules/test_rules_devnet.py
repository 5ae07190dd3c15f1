"""The default config's CEL rules against the real FICTRA deployment on Anvil: real logs, real ABIs,
through the alert pipeline into the store."""

from __future__ import annotations

from pathlib import Path

from fictra.alerting.queries import list_alerts
from fictra.chain.fetch import fetch_blocks
from fictra.chain.pool import RpcPool
from fictra.chain.types import BlockBatch
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.devnet.accounts import one
from fictra.devnet.anvil import AnvilNode
from fictra.devnet.chainutil import DevChain
from fictra.devnet.deploy import deploy_system, role_id, sovereign_id
from fictra.monitors.pipeline import AlertPipeline
from fictra.monitors.rules_monitor import RulesMonitor
from fictra.platform.config_set import load_config_set

CONFIG = Path(__file__).resolve().parents[2] / "config"
E18 = 10**18


async def test_default_rules_fire_on_the_devnet(anvil: AnvilNode, tmp_path: Path) -> None:
    manifest = await deploy_system(anvil.rpc_url)
    loaded = load_config_set(CONFIG, manifest=manifest)
    assert loaded.notes == ()  # every contract, event and function name exists in the real deployment
    monitor = RulesMonitor.from_manifest(loaded.rules, manifest)
    assert monitor.engine.rule_count == len(loaded.rules)
    attacker, manager = one("attacker").address, one("reserve_manager").address
    pool = RpcPool(network="devnet", urls=[anvil.rpc_url], clock=SystemClock(), chain_id=manifest.chain_id)
    await pool.start()
    url = f"sqlite:///{tmp_path / 'alerts.db'}"
    migrate(url)
    db = make_engine(url)
    try:
        async with DevChain(anvil.rpc_url, manifest) as dev:
            first = await dev.head() + 1
            await dev.send(manager, "Reserve", "issue", one("traders").address, 1_000_000 * E18)  # large mint
            await dev.send(one("traders").address, "PaymentToken", "transfer", attacker, 10 * E18)  # small
            await dev.send(one("fee_manager").address, "PaymentToken", "setFee", 42)
            await dev.send(
                one("issuer").address, "FoundationToken", "issue", sovereign_id(1), 5 * E18
            )  # routine
            await dev.send(one("issuer").address, "FoundationToken", "issue", sovereign_id(1), 300_000 * E18)
            asset = manifest.address("Asset:CASH")
            await dev.send(manager, "Reserve", "withdraw", asset, 1 * E18, manager)
            await dev.send(
                manager, "Reserve", "withdraw", asset, 2 * E18, attacker
            )  # to a never-seen address
            await dev.send(attacker, "Reserve", "withdraw", asset, 1 * E18, attacker, check=False)  # reverts
            await dev.send(attacker, "PaymentToken", "setFee", 1, check=False)  # reverts
            timelock = manifest.address("Timelock")
            await dev.impersonate(timelock)
            await dev.send(timelock, "PaymentToken", "grantRole", role_id("PAUSER_ROLE"), attacker)
            await dev.stop_impersonating(timelock)
            head = await dev.head()
        blocks = await fetch_blocks(pool, first=first, last=head)
        pipeline = AlertPipeline(monitors=[monitor], clock=SystemClock(), policy=loaded.policy)
        async with session_factory(db)() as session, session.begin():
            await pipeline.on_batch(BlockBatch("devnet", tuple(blocks), head=head, at_head=True), session)
        async with session_factory(db)() as session:
            alerts = {a.monitor: a for a in await list_alerts(session)}
    finally:
        await pool.aclose()
        await db.dispose()
    assert monitor.engine.errors == {} and monitor.engine.decode_errors == 0
    assert set(alerts) == {
        "large-pt-transfer",
        "pt-fee-changed",
        "ft-issued",
        "reserve-withdrawal",
        "reserve-withdraw-call-failed",
        "reserve-outflow-unknown-recipient",
        "pt-privileged-call-reverted",
        "pt-role-granted-unlisted",
    }
    assert alerts["ft-issued"].count == 1, "a routine issue is below the informational threshold"
    assert alerts["reserve-withdrawal"].count == 1, "the outflow to the attacker is not a routine withdrawal"
    outflow = alerts["reserve-outflow-unknown-recipient"]
    assert outflow.severity == "P1" and outflow.labels["to"] == attacker.lower()
    assert alerts["pt-privileged-call-reverted"].severity == "P1"
    assert alerts["large-pt-transfer"].summary.startswith("Large PT transfer of 1,000,000.00 PT from 0x0000…")
    assert alerts["pt-fee-changed"].summary.endswith("to 42 bps")
    assert alerts["pt-role-granted-unlisted"].severity == "P0"
    assert alerts["pt-role-granted-unlisted"].labels["account"] == attacker.lower()
    failed = alerts["reserve-withdraw-call-failed"]
    assert (
        failed.severity == "P1"
        and failed.summary == f"Reverted Reserve.withdraw from unknown {attacker.lower()}"
    )
