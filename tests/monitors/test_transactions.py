"""Transactions monitor on-chain: error rate per function, PT volume, throughput limits, platform
confirmation time (record_sent hook), window expiry by block time, and reorg forgetting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fictra.alerting.findings import Severity
from fictra.chain.types import Reorg
from fictra.monitors.config import TransactionsMonitor
from fictra.monitors.transactions import TransactionsCheck
from monitors.rig import E18, Rig, by_condition, cleared, traders, who

PT = "PaymentToken"


def check(rig: Rig, senders: list[str] | None = None, **thresholds: Any) -> TransactionsCheck:
    config = TransactionsMonitor.model_validate(
        {
            "type": "transactions",
            "name": "tx",
            "contracts": [PT, "Reserve", "FoundationToken"],
            "platform_senders": senders or [],
            "thresholds": thresholds,
        }
    )
    return TransactionsCheck(config=config, manifest=rig.manifest)


async def pt_transfer(rig: Rig, amount: int, *, sender: int = 0, to: int = 1) -> Any:
    return await rig.send(traders()[sender], PT, "transfer", traders()[to], amount, check=False)


async def test_error_rate_per_function_then_recovery(rig: Rig) -> None:
    monitor = check(rig, min_calls_for_error_rate=4, max_error_rate=0.25)
    for _ in range(3):
        receipt = await pt_transfer(rig, 10**9 * E18)  # more than the balance: reverts
        assert receipt["status"] == 0
    await pt_transfer(rig, E18)
    out = await rig.run(monitor)
    (rate,) = by_condition(out, "error_rate")
    assert rate.severity is Severity.P2
    assert rate.labels == {"condition": "error_rate", "function": "PaymentToken.transfer"}
    assert rate.evidence["calls"] == 4 and rate.evidence["errors"] == 3
    assert rate.evidence["observed"] == 0.75 and rate.evidence["threshold"] == 0.25
    for _ in range(10):
        await pt_transfer(rig, E18)
    assert cleared(await rig.run(monitor), "error_rate") == [rate.labels]


async def test_too_few_calls_are_not_rated(rig: Rig) -> None:
    monitor = check(rig, min_calls_for_error_rate=5, max_error_rate=0.1)
    for _ in range(3):
        await pt_transfer(rig, 10**9 * E18)
    assert by_condition(await rig.run(monitor), "error_rate") == []


async def test_unknown_selector_is_named_by_its_selector(rig: Rig) -> None:
    monitor = check(rig, min_calls_for_error_rate=1, max_error_rate=0.5)
    await rig.dev.send_raw(traders()[0], rig.manifest.address(PT), "0x12345678", gas=100_000)
    await rig.dev.mine(1)
    (rate,) = by_condition(await rig.run(monitor), "error_rate")
    assert rate.labels["function"] == "PaymentToken.0x12345678"


async def test_pt_volume_over_window_then_expiry(rig: Rig) -> None:
    monitor = check(rig, window="60s", max_pt_volume=1000 * E18)
    await pt_transfer(rig, 5000 * E18)
    out = await rig.run(monitor)
    (volume,) = by_condition(out, "pt_volume")
    assert volume.severity is Severity.P1 and volume.labels == {"condition": "pt_volume", "contract": PT}
    assert int(str(volume.evidence["observed"])) >= 5000 * E18 and volume.evidence["window_s"] == 60
    top_sender = volume.evidence["top_senders"][0]  # type: ignore[index]
    assert top_sender[0] == traders()[0].lower()
    await rig.dev.increase_time(61)
    assert cleared(await rig.run(monitor), "pt_volume") == [volume.labels]


async def test_high_and_low_throughput(rig: Rig) -> None:
    monitor = check(rig, window="60s", max_tx_per_window=3, min_tx_per_window=2)
    receipts = [await pt_transfer(rig, E18) for _ in range(5)]
    out = await rig.run(monitor)
    (high,) = by_condition(out, "high_throughput")
    assert high.block is not None and high.block.number == receipts[3]["blockNumber"]
    # judged block by block: the condition starts with the 4th transaction (limit 3)
    assert high.evidence["observed"] == 4 and high.evidence["top_contracts"] == [[PT, 4]]
    assert by_condition(out, "low_throughput") == [], "the window is not covered yet"
    await rig.dev.increase_time(61)
    out = await rig.run(monitor)
    assert cleared(out, "high_throughput") == [high.labels]
    (low,) = by_condition(out, "low_throughput")
    assert low.severity is Severity.P3 and low.evidence["observed"] == 0
    for _ in range(2):
        await pt_transfer(rig, E18)
    assert cleared(await rig.run(monitor), "low_throughput") == [low.labels]


async def send_from_operator(rig: Rig) -> str:
    tx = {"from": who("operator"), "to": traders()[0], "value": hex(1), "gas": hex(21_000)}
    tx_hash = str(await rig.rpc("eth_sendTransaction", [tx]))
    await rig.dev.receipt(tx_hash)
    return tx_hash


async def test_slow_platform_confirmation_then_fast(rig: Rig) -> None:
    monitor = check(rig, [who("operator")], max_confirmation_time="60s")
    now = await rig.dev.chain_time()
    slow = await send_from_operator(rig)
    monitor.record_sent(slow, datetime.fromtimestamp(now - 120, UTC))
    unrecorded = await send_from_operator(rig)
    out = await rig.run(monitor)
    (late,) = by_condition(out, "slow_confirmation")
    assert late.tx_hashes == (slow.lower(),) and unrecorded.lower() not in late.tx_hashes
    assert late.evidence["mined"] is True and float(late.evidence["observed_s"]) >= 120  # type: ignore[arg-type]
    assert late.evidence["sender"] == who("operator").lower()
    fast = await send_from_operator(rig)
    monitor.record_sent(fast, datetime.fromtimestamp(await rig.dev.chain_time(), UTC))
    assert cleared(await rig.run(monitor), "slow_confirmation") == [late.labels]


async def test_platform_tx_still_pending(rig: Rig) -> None:
    monitor = check(rig, [who("operator")], max_confirmation_time="60s")
    monitor.record_sent("0x" + "ee" * 32, datetime.fromtimestamp(await rig.dev.chain_time() - 300, UTC))
    await rig.dev.mine(1)
    (late,) = by_condition(await rig.run(monitor), "slow_confirmation")
    assert late.evidence["mined"] is False and late.tx_hashes == ("0x" + "ee" * 32,)


async def test_reorg_drops_removed_blocks_from_the_window(rig: Rig) -> None:
    monitor = check(rig, max_tx_per_window=3)
    ancestor = await rig.mark()
    for _ in range(5):
        await pt_transfer(rig, E18)
    assert len(by_condition(await rig.run(monitor), "high_throughput")) == 1
    await monitor.on_reorg(
        Reorg(network="devnet", common_ancestor=ancestor, depth=5, old_hashes=()), rig.session
    )
    assert monitor.window.txs == 0 and monitor.window.per_contract == {}
    rig.seen = ancestor  # the new branch replays the same blocks: one finding again, not ten txs
    out = await rig.run(monitor)
    (again,) = by_condition(out, "high_throughput")
    assert again.evidence["observed"] == 4 and monitor.window.txs == 5


async def test_tracked_platform_txs_are_bounded(rig: Rig) -> None:
    monitor = check(rig, [who("operator")])
    at = datetime.fromtimestamp(await rig.dev.chain_time(), UTC)
    for i in range(10_005):
        monitor.record_sent(f"0x{i:064x}", at)
    assert len(monitor.sent) == 10_000 and f"0x{0:064x}" not in monitor.sent
