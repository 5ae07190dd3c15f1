"""Gas monitor on-chain: base fee over its limit (anvil_setNextBlockBaseFeePerGas), priority fee,
block fullness, gas per function and a base-fee spike against the persisted baseline."""

from __future__ import annotations

from typing import Any

import pytest

from fictra.alerting.findings import Severity
from fictra.chain.manifest import Manifest
from fictra.clock import SystemClock
from fictra.errors import ConfigError
from fictra.monitors.baseline_store import load_baselines
from fictra.monitors.config import GasMonitor
from fictra.monitors.gas import GasCheck
from monitors.rig import E18, Rig, by_condition, cleared, traders

GWEI = 10**9


def check(rig: Rig, **thresholds: Any) -> GasCheck:
    config = GasMonitor.model_validate(
        {"type": "gas", "name": "gas", "contracts": ["PaymentToken", "Reserve"], "thresholds": thresholds}
    )
    return GasCheck(config=config, manifest=rig.manifest, clock=SystemClock())


async def set_base_fee(rig: Rig, wei: int) -> None:
    await rig.rpc("anvil_setNextBlockBaseFeePerGas", [hex(wei)])
    await rig.dev.mine(1)


async def transfer(rig: Rig, to: str, *, tip: int = GWEI, amount: int = E18) -> dict[str, Any]:
    data = rig.dev.contract("PaymentToken").encode_abi("transfer", args=[to, amount])
    tx = {
        "from": traders()[0],
        "to": rig.manifest.address("PaymentToken"),
        "data": data,
        "gas": hex(200_000),
        "maxPriorityFeePerGas": hex(tip),
        "maxFeePerGas": hex(tip + 10 * GWEI),
    }
    tx_hash = await rig.rpc("eth_sendTransaction", [tx])
    return dict(await rig.dev.receipt(tx_hash))


async def test_base_fee_over_limit_then_back(rig: Rig) -> None:
    monitor = check(rig, max_base_fee_gwei=100)
    await set_base_fee(rig, 200 * GWEI)
    out = await rig.run(monitor)
    (high,) = by_condition(out, "base_fee")
    assert high.severity is Severity.P2 and high.labels == {"condition": "base_fee"}
    assert high.evidence == {"observed_gwei": 200.0, "threshold_gwei": 100}
    assert high.block is not None and high.block.number == rig.seen
    await set_base_fee(rig, GWEI)
    done = await rig.run(monitor)
    assert cleared(done, "base_fee") == [high.labels] and by_condition(done, "base_fee") == []


async def test_priority_fee_median(rig: Rig) -> None:
    monitor = check(rig, max_priority_fee_gwei=20)
    receipt = await transfer(rig, traders()[1], tip=50 * GWEI)
    out = await rig.run(monitor)
    (tip,) = by_condition(out, "priority_fee")
    assert tip.severity is Severity.P3 and float(tip.evidence["observed_gwei"]) == pytest.approx(50, rel=0.01)  # type: ignore[arg-type]
    assert tip.block is not None and tip.block.number == receipt["blockNumber"]
    await transfer(rig, traders()[1], tip=GWEI)
    assert cleared(await rig.run(monitor), "priority_fee") == [tip.labels]


async def test_gas_used_ratio(rig: Rig) -> None:
    monitor = check(rig, max_gas_used_ratio=0.0001)
    await transfer(rig, traders()[1])
    (full,) = by_condition(await rig.run(monitor), "gas_used_ratio")
    assert float(full.evidence["observed"]) > 0.0001  # type: ignore[arg-type]
    await rig.dev.mine(1)
    assert cleared(await rig.run(monitor), "gas_used_ratio") == [full.labels]


async def test_gas_per_function_ceiling(rig: Rig) -> None:
    light = await transfer(rig, traders()[1], amount=0)  # no balance changes: no storage writes
    ceiling = int(light["gasUsed"]) + 1_000
    monitor = check(rig, max_gas_per_function={"PaymentToken.transfer": ceiling})
    await rig.mark()
    receipt = await transfer(rig, traders()[1], amount=E18)
    out = await rig.run(monitor)
    (heavy,) = by_condition(out, "function_gas")
    assert heavy.labels == {"condition": "function_gas", "function": "PaymentToken.transfer"}
    assert heavy.evidence == {"observed": int(receipt["gasUsed"]), "threshold": ceiling}
    assert heavy.tx_hashes == ("0x" + receipt["transactionHash"].hex().removeprefix("0x"),)
    await transfer(rig, traders()[1], amount=0)
    assert cleared(await rig.run(monitor), "function_gas") == [heavy.labels]


async def test_base_fee_spike_against_baseline(rig: Rig) -> None:
    monitor = check(rig, baseline_warmup=5, spike_z=4, max_base_fee_gwei=None)
    await rig.dev.mine(8)
    assert by_condition(await rig.run(monitor), "base_fee") == []
    before = (await load_baselines(rig.session, monitor="gas"))["base_fee"]
    await set_base_fee(rig, 50 * GWEI)
    out = await rig.run(monitor)
    (spike,) = out.findings
    assert spike.labels == {"metric": "base_fee_gwei", "series": "base_fee"} and spike.severity is Severity.P2
    assert float(spike.evidence["z"]) > 4  # type: ignore[arg-type]
    assert before["n"] == 8 and (await load_baselines(rig.session, monitor="gas"))["base_fee"]["n"] == 9
    await set_base_fee(rig, GWEI // 2)
    # the spike was learned winsorized (clipped at mean + 4 std), so the baseline is not dragged up and
    # 0.5 gwei is still unusual (z > 2); then clear_after (3) calm blocks in a row clear it
    assert (await rig.run(monitor)).clears == []
    await rig.dev.mine(3)
    assert [c.labels for c in (await rig.run(monitor)).clears] == [spike.labels]


async def test_baseline_survives_a_new_instance(rig: Rig) -> None:
    first = check(rig, baseline_warmup=3)
    await rig.dev.mine(4)
    await rig.run(first)
    second = check(rig, baseline_warmup=3)
    await rig.dev.mine(1)
    await rig.run(second)
    assert second.baselines.series["base_fee"].n == 5


def test_unknown_function_is_a_config_error(monitors_manifest: Manifest) -> None:
    config = GasMonitor.model_validate(
        {"type": "gas", "name": "g", "thresholds": {"max_gas_per_function": {"PaymentToken.nope": 1}}}
    )
    with pytest.raises(ConfigError, match=r"PaymentToken\.nope"):
        GasCheck(config=config, manifest=monitors_manifest, clock=SystemClock())
