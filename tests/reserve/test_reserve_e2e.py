"""Proof of reserve end to end on a real devnet with the platform running (the shipped config, the
operator's keystore written as `fictra devnet up` does):

- `reserve-drain` → collateral below 100% → the proof-of-reserve P0 within 1 block; undo → resolved;
- the publisher signs the new value into the ProofOfReserve feed (recorded before broadcast, confirmed);
- a stale GOLD price (CASH and TBILL refreshed) is flagged on its own and valued at zero in the ratio.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from cli.clirun import fictra
from e2e.harness import REPO, Running, start
from fictra.alerting.schemas import AlertView
from fictra.devnet.accounts import role
from fictra.devnet.feeds import feed, submit_round
from fictra.reserve.queries import latest_proof, por_updates

pytestmark = [pytest.mark.e2e]
E18 = 10**18


def proof_alert(condition: str, **labels: str):  # type: ignore[no-untyped-def]
    def match(alert: AlertView) -> bool:
        return (
            alert.monitor == "proof-of-reserve"
            and alert.labels.get("condition") == condition
            and all(alert.labels.get(k) == v for k, v in labels.items())
        )

    return match


@pytest.fixture(scope="module")
async def running(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Running]:
    """One platform for the module: the tests run in order, the second after the first's undo."""
    r = await start(tmp_path_factory.mktemp("reserve"), emergency=True)
    try:
        yield r
    finally:
        await r.close()


async def test_drain_is_a_p0_within_one_block_and_the_feed_follows_and_a_stale_price_counts_zero(
    running: Running,
) -> None:
    platform, network = running.platform, running.platform.network
    assert platform.reserve is not None and platform.reserve.publisher is not None
    publisher = platform.reserve.publisher
    async with platform.sessions() as session:
        proof = await latest_proof(session, network=network)
    assert proof is not None and proof.ratio == 1.5 and proof.value == 3_300_000 * E18
    assert await publisher.run_once(platform.sessions) is None  # the deploy published that value
    from fictra.platform.operations import operations_summary

    rows = {label: text for label, text, _ in (await operations_summary(platform)).rows}
    assert rows["reserve"].startswith("collateral 150.0% at block")
    assert rows["sovereigns"] == "5 registered, 0 differ from the chain"
    assert rows["PT market"].startswith("1.0000 CASH")

    # the CLI reads the same proof from the chain, and its attestation package verifies offline
    settings = platform.settings
    running.manifest.save(settings.devnet_dir / "manifest.json")
    env = {"FICTRA_CONFIG_DIR": str(platform.config.config_dir)}
    shown = await asyncio.to_thread(fictra, settings.data_dir, "reserve", "proof", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["value"] == str(3_300_000 * E18)
    package = settings.data_dir / "attestation.json"
    written = await asyncio.to_thread(
        fictra, settings.data_dir, "reserve", "attest", "-o", str(package), env=env
    )
    assert written.returncode == 0, written.stderr
    script = [sys.executable, str(REPO / "scripts" / "verify_attestation.py"), str(package)]
    verified = await asyncio.to_thread(subprocess.run, script, capture_output=True, text=True, check=False)
    assert verified.returncode == 0 and verified.stdout.startswith("OK: block"), verified.stdout

    await running.scenario("reserve-drain")
    below = await running.wait_for_alert(proof_alert("collateral_below_full"), within_blocks=1)
    assert below.severity == "P0"
    assert float(below.evidence["observed_ratio"]) < 1.0  # type: ignore[arg-type]

    sent = await publisher.run_once(platform.sessions)  # the drop is far above min_change_bps
    assert sent is not None
    await running.mine()
    assert await publisher.run_once(platform.sessions) is None  # settles the confirmed update first
    async with platform.sessions() as session:
        [update] = await por_updates(session, network=network)
        proof = await latest_proof(session, network=network)
    assert update["status"] == "confirmed" and update["tx_hash"] == sent.tx_hash
    _rid, answer, *_ = await running.chain.call("ProofOfReserve", "latestRoundData")
    assert proof is not None and int(answer) == int(update["answer"]) == proof.value

    await running.scenario("reserve-drain", undo=True)
    await running.wait_for_alert(lambda a: a.id == below.id, within_blocks=2, status="resolved")

    # GOLD's price ages past its heartbeat while CASH and TBILL get fresh rounds
    await running.chain.increase_time(3000)
    nodes = [a.address for a in role("oracle_nodes")][:3]
    for symbol, price in (("CASH", 1.0), ("TBILL", 100.0)):
        info = feed(running.chain, symbol)
        await submit_round(running.chain, info, [(n, round(price * 10**8)) for n in nodes])
    await running.chain.increase_time(700)
    await running.mine()
    stale = await running.wait_for_alert(proof_alert("reserve_price_stale", asset="GOLD"), within_blocks=1)
    assert stale.severity == "P1" and "valued at zero" in stale.summary
    short = await running.wait_for_alert(proof_alert("collateral_below_full"), within_blocks=1)
    assert "stale prices valued at zero: GOLD" in short.summary
    async with platform.sessions() as session:
        proof = await latest_proof(session, network=network)
    assert proof is not None and proof.stale == ["GOLD"] and proof.value == 2_100_000 * E18
    firing = {
        a.labels.get("asset")
        for a in await running.alerts(status="firing")
        if a.monitor == "proof-of-reserve" and a.labels.get("condition") == "reserve_price_stale"
    }
    assert "CASH" not in firing and "TBILL" not in firing
    # a fresh GOLD round: the stale alert resolves and the weights are back in band
    await submit_round(running.chain, feed(running.chain, "GOLD"), [(n, 2000 * 10**8) for n in nodes])
    await running.wait_for_alert(lambda a: a.id == stale.id, within_blocks=1, status="resolved")
    await running.settle()
    drifting = [
        a for a in await running.alerts(status="firing") if a.labels.get("condition") == "allocation_drift"
    ]
    assert drifting == [], [a.summary for a in drifting]


async def test_a_price_move_out_of_band_is_rebalanced_on_chain_and_verified(running: Running) -> None:
    from fictra.auth.actor import Actor
    from fictra.auth.permissions import default_roles
    from fictra.emergency import service
    from fictra.platform.reserve import request_rebalance

    def person(name: str, role: str) -> Actor:
        return Actor(None, name, (role,), default_roles().permissions_of([role]), "session")

    ops, lead = person("olga", "operations_manager"), person("lee", "technical_lead")
    p = running.platform
    assert p.emergency is not None
    nodes = [a.address for a in role("oracle_nodes")][:3]
    await submit_round(running.chain, feed(running.chain, "GOLD"), [(n, 4000 * 10**8) for n in nodes])
    gold = await running.wait_for_alert(proof_alert("allocation_drift", asset="GOLD"), within_blocks=1)
    assert gold.severity == "P2" and "53.3% of the reserve, outside its band 35.0% ± 5.0%" in gold.summary

    async with p.sessions.begin() as session:
        view = await request_rebalance(
            session, config=p.config.reserve, emergency=p.config.emergency, manifest=p.manifest, pool=p.pool,
            actor=ops, clock=p.clock,
        )  # fmt: skip
    trades = {t["symbol"]: (t["side"], int(t["units"]), int(t["usd"])) for t in view.params["trades"]}
    assert trades == {
        "GOLD": ("sell", 206_250_000_000_000_000_000, 825_000 * E18),  # 206.25 oz at 4,000
        "CASH": ("buy", 475_000 * E18, 475_000 * E18),
        "TBILL": ("buy", 3_500 * E18, 350_000 * E18),
    }
    async with p.sessions.begin() as session:
        view = await service.approve(
            session, action_id=view.id, actor=lead, clock=p.clock, params_hash=view.params_hash
        )
    dry = await p.emergency.dry_run(view.id)
    assert dry.ok, dry.summary
    task = asyncio.create_task(p.emergency.execute(view.id, ops))
    for _ in range(30):
        done, _ = await asyncio.wait({task}, timeout=0.3)
        if done:
            break
        await running.mine()
    result = await asyncio.wait_for(task, timeout=10)
    assert result.status == "verified", result.error
    assert result.verification is not None
    assert {s: round(w, 4) for s, w in result.verification["weights"].items()} == {
        "CASH": 0.35, "TBILL": 0.3, "GOLD": 0.35
    }  # fmt: skip
    await running.wait_for_alert(lambda a: a.id == gold.id, within_blocks=2, status="resolved")
    async with p.sessions() as session:
        proof = await latest_proof(session, network=p.network)
    assert proof is not None and proof.value == 4_500_000 * E18  # value-neutral at oracle prices
