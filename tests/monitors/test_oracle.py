"""Oracle monitor against the deployed feeds: deviant node, round jump, staleness past the heartbeat,
bounds, missing node and an unanswered round — each raised and then cleared by a healthy round."""

from __future__ import annotations

import pytest

from fictra.alerting.findings import Severity
from fictra.chain.manifest import Manifest
from fictra.chain.types import Reorg
from fictra.devnet.feeds import FeedInfo, feed, submit_round
from fictra.errors import ConfigError
from fictra.monitors.base import MonitorOutput
from fictra.monitors.config import OracleMonitor
from fictra.monitors.oracle import OracleCheck
from monitors.rig import Rig, by_condition, cleared, nodes

BRENT = 8_250_000_000  # 82.5 USD, 8 decimals


def check(rig: Rig, **thresholds: object) -> OracleCheck:
    config = OracleMonitor.model_validate(
        {"type": "oracle", "name": "oracle", "contracts": ["Feed:BRENT"], "thresholds": thresholds}
    )
    return OracleCheck(config=config, manifest=rig.manifest, pool=rig.pool)


def brent(rig: Rig) -> FeedInfo:
    return feed(rig.dev, "BRENT")


async def round_of(rig: Rig, answers: list[int], who: list[str] | None = None) -> int:
    return await submit_round(rig.dev, brent(rig), list(zip(who or nodes(), answers, strict=True)))


async def test_healthy_rounds_raise_nothing(rig: Rig) -> None:
    monitor = check(rig)
    for _ in range(2):
        await round_of(rig, [BRENT - 2, BRENT - 1, BRENT, BRENT + 1, BRENT + 2])
    out = await rig.run(monitor)
    assert out.findings == [] and out.clears == []


async def test_deviant_node_then_good_round_clears(rig: Rig) -> None:
    monitor = check(rig)
    deviant = nodes()[4]
    round_id = await round_of(rig, [BRENT, BRENT, BRENT, BRENT, BRENT * 109 // 100])
    out = await rig.run(monitor)
    (dev,) = by_condition(out, "node_deviation")
    assert dev.severity is Severity.P2
    assert dev.labels == {"feed": "Feed:BRENT", "node": deviant.lower(), "condition": "node_deviation"}
    assert dev.evidence["round"] == round_id and dev.evidence["threshold_pct"] == 2.0
    assert dev.evidence["deviation_pct"] == pytest.approx(9.0)
    assert dev.evidence["expected_median"] == 82.5
    receipt = await rig.dev.receipt(dev.tx_hashes[0])
    assert dev.block is not None and dev.block.number == receipt["blockNumber"]
    await round_of(rig, [BRENT] * 5)
    assert cleared(await rig.run(monitor), "node_deviation") == [dev.labels]


async def test_round_jump_then_steady_round_clears(rig: Rig) -> None:
    monitor = check(rig)
    await round_of(rig, [BRENT] * 5)
    await rig.run(monitor)
    high = BRENT * 115 // 100
    await round_of(rig, [high] * 5)
    out = await rig.run(monitor)
    (jump,) = by_condition(out, "round_jump")
    assert jump.labels == {"feed": "Feed:BRENT", "condition": "round_jump"}
    assert jump.evidence["change_pct"] == pytest.approx(15.0) and jump.evidence["threshold_pct"] == 5.0
    assert jump.evidence["previous"] == 82.5
    await round_of(rig, [high] * 5)
    assert cleared(await rig.run(monitor), "round_jump") == [jump.labels]


async def test_jump_below_threshold_is_quiet(rig: Rig) -> None:
    monitor = check(rig, max_round_jump_pct=20)
    await round_of(rig, [BRENT] * 5)
    await round_of(rig, [BRENT * 115 // 100] * 5)
    assert by_condition(await rig.run(monitor), "round_jump") == []


async def test_stale_past_heartbeat_then_fresh_round_clears(rig: Rig) -> None:
    monitor = check(rig)
    await rig.dev.mine(1)
    assert by_condition(await rig.run(monitor), "stale") == []
    await rig.dev.increase_time(3600 + 60 + 30)
    out = await rig.run(monitor)
    (stale,) = by_condition(out, "stale")
    assert stale.severity is Severity.P1 and stale.labels == {"feed": "Feed:BRENT", "condition": "stale"}
    assert stale.evidence["threshold_s"] == 3660 and float(stale.evidence["observed_age_s"]) > 3660  # type: ignore[arg-type]
    await round_of(rig, [BRENT] * 5)
    assert cleared(await rig.run(monitor), "stale") == [stale.labels]


async def test_heartbeat_override(rig: Rig) -> None:
    monitor = check(rig, heartbeat="10s", staleness_grace="5s")
    await rig.dev.increase_time(20)
    (stale,) = by_condition(await rig.run(monitor), "stale")
    assert stale.evidence["threshold_s"] == 15


async def test_out_of_bounds_and_back(rig: Rig) -> None:
    monitor = check(rig, bounds={"Feed:BRENT": {"min": 10, "max": 85}}, max_round_jump_pct=50)
    await round_of(rig, [9_000_000_000] * 5)
    (oob,) = by_condition(await rig.run(monitor), "out_of_bounds")
    assert oob.severity is Severity.P1 and oob.evidence["observed"] == 90.0 and oob.evidence["max"] == 85
    await round_of(rig, [BRENT] * 5)
    assert cleared(await rig.run(monitor), "out_of_bounds") == [oob.labels]


async def test_node_missing_rounds_then_back(rig: Rig) -> None:
    monitor = check(rig, missed_rounds=2)
    four, absent = nodes()[:4], nodes()[4].lower()
    for _ in range(2):
        await round_of(rig, [BRENT] * 4, four)
    assert by_condition(await rig.run(monitor), "node_missing") == []  # one closed round missed
    await round_of(rig, [BRENT] * 4, four)
    out = await rig.run(monitor)
    (missing,) = by_condition(out, "node_missing")
    assert missing.labels == {"feed": "Feed:BRENT", "node": absent, "condition": "node_missing"}
    assert missing.evidence["observed_missed"] == 2 and missing.severity is Severity.P2
    await round_of(rig, [BRENT] * 5)
    assert cleared(await rig.run(monitor), "node_missing") == [missing.labels]


async def test_open_round_without_answer_is_not_answered_in_round(rig: Rig) -> None:
    """CommodityFeed.latestRoundData() reports the latest *answered* round, so an open round below
    minSubmissions keeps answeredInRound == roundId on this contract: no finding, nothing stale."""
    monitor = check(rig)
    await round_of(rig, [BRENT], nodes()[:1])
    out = await rig.run(monitor)
    assert out.findings == []


def test_non_feed_contract_is_a_config_error(monitors_manifest: Manifest) -> None:
    config = OracleMonitor(type="oracle", name="o", contracts=["PaymentToken"])
    with pytest.raises(ConfigError, match="PaymentToken"):
        OracleCheck(config=config, manifest=monitors_manifest, pool=None)  # type: ignore[arg-type]


async def test_answered_in_round_behind(rig: Rig) -> None:
    """The deployed feed always answers in its own round, so this judges a Chainlink-style stale
    answer (answeredInRound < roundId) on a real block with the values such a feed would return."""
    monitor = check(rig)
    await rig.dev.mine(1)
    (block,) = (await rig.batch()).blocks
    state = next(iter(monitor.feeds.values()))
    out = MonitorOutput()
    monitor._latest(state, (7, BRENT, block.timestamp, block.timestamp, 6), block, out)
    (late,) = by_condition(out, "answered_in_round")
    assert late.severity is Severity.P1 and late.evidence == {"observed": 6, "expected": 7}
    healed = MonitorOutput()
    monitor._latest(state, (8, BRENT, block.timestamp, block.timestamp, 8), block, healed)
    assert cleared(healed, "answered_in_round") == [late.labels]


async def test_reorg_forgets_submissions_of_removed_blocks(rig: Rig) -> None:
    monitor = check(rig)
    ancestor = await rig.mark()
    deviant = BRENT * 110 // 100
    await submit_round(rig.dev, brent(rig), list(zip(nodes()[:2], [BRENT, deviant], strict=True)))
    await rig.run(monitor)
    state = next(iter(monitor.feeds.values()))
    assert sum(len(s) for s in state.rounds.values()) == 2
    await monitor.on_reorg(
        Reorg(network="devnet", common_ancestor=ancestor, depth=2, old_hashes=()), rig.session
    )
    assert sum(len(s) for s in state.rounds.values()) == 0


async def test_round_opened_before_the_monitor_started_is_not_held_against_nodes(rig: Rig) -> None:
    """Submissions before the monitor's first block are unseen: that round cannot prove a node missing."""
    monitor = check(rig, missed_rounds=1)
    first = await round_of(rig, [BRENT] * 2, nodes()[:2])  # opened before the monitor's first block
    await rig.mark()
    for node in nodes()[2:4]:
        await rig.send(node, "Feed:BRENT", "submit", first, BRENT, gas=300_000)
    await round_of(rig, [BRENT] * 5)  # closes the first round (node 4 never submitted to it)
    out = await rig.run(monitor)
    assert by_condition(out, "node_missing") == []
    await round_of(rig, [BRENT] * 4, nodes()[:4])
    await round_of(rig, [BRENT] * 5)
    (missing,) = by_condition(await rig.run(monitor), "node_missing")  # a round seen whole does count
    assert missing.labels["node"] == nodes()[4].lower()


async def test_stale_from_exactly_heartbeat_plus_grace(rig: Rig) -> None:
    monitor = check(rig, heartbeat="100s", staleness_grace="10s")
    await round_of(rig, [BRENT] * 5)  # a fresh answer: the timestamps below are in the future
    updated = int((await rig.dev.call("Feed:BRENT", "latestRoundData"))[3])
    for age, stale in ((109, False), (110, True)):
        await rig.rpc("evm_setNextBlockTimestamp", [updated + age])
        await rig.dev.mine(1)
        found = by_condition(await rig.run(monitor), "stale")
        assert bool(found) is stale, age


async def test_rounds_replayed_after_a_revert_are_judged_again(rig: Rig) -> None:
    """evm_revert (or a deep reorg) replays the same round ids on the new branch."""
    monitor = check(rig)
    await round_of(rig, [BRENT] * 5)
    await rig.run(monitor)
    ancestor = await rig.mark()
    snap = await rig.rpc("evm_snapshot", [])
    await round_of(rig, [BRENT * 115 // 100] * 5)
    assert len(by_condition(await rig.run(monitor), "round_jump")) == 1
    assert await rig.rpc("evm_revert", [snap])
    reorg = Reorg(network="devnet", common_ancestor=ancestor, depth=rig.seen - ancestor, old_hashes=())
    await monitor.on_reorg(reorg, rig.session)
    rig.seen = ancestor
    deviant = await round_of(rig, [BRENT, BRENT, BRENT, BRENT, BRENT * 110 // 100])  # the same round id
    out = await rig.run(monitor)
    assert by_condition(out, "round_jump") == [], (
        "judged against the round before the fork, not the removed one"
    )
    (dev,) = by_condition(out, "node_deviation")
    assert dev.evidence["round"] == deviant
