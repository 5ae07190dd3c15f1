"""CommodityFeed: rounds, minimum submissions, median, double submission, round ids, answeredInRound."""

from __future__ import annotations

from contractkit import Actors, System

BRENT = 8_250_000_000  # 82.50 with 8 decimals


async def test_initial_round_and_metadata(system: System, who: Actors) -> None:
    round_id, answer, started, updated, answered_in = await system.view("Feed:BRENT", "latestRoundData")
    assert (round_id, answer, answered_in) == (1, BRENT, 1)
    assert updated >= started > 0
    assert await system.view("Feed:BRENT", "decimals") == 8
    assert await system.view("Feed:BRENT", "description") == "BRENT / USD"
    assert await system.view("Feed:BRENT", "heartbeat") == 3600
    assert await system.view("Feed:BRENT", "deviationThresholdBps") == 200
    assert await system.view("Feed:BRENT", "minSubmissions") == 3
    assert await system.view("Feed:BRENT", "latestRound") == 1
    assert await system.view("Feed:BRENT", "submissionOf", 1, who.nodes[2]) == BRENT
    meta = system.manifest.contracts["Feed:BRENT"].meta
    assert meta == {
        "symbol": "BRENT",
        "heartbeat": 3600,
        "deviation_bps": 200,
        "decimals": 8,
        "initial_price": 82.5,
    }


async def test_answer_needs_min_submissions_then_is_the_running_median(system: System, who: Actors) -> None:
    n = who.nodes
    receipt = await system.send(n[0], "Feed:BRENT", "submit", 2, 9_000_000_000)
    [opened] = await system.events(receipt, "Feed:BRENT", "NewRound")
    assert opened["roundId"] == 2 and opened["startedBy"] == n[0]
    [got] = await system.events(receipt, "Feed:BRENT", "SubmissionReceived")
    assert got == {"answer": 9_000_000_000, "round": 2, "oracle": n[0]}
    await system.send(n[1], "Feed:BRENT", "submit", 2, 8_000_000_000)
    # two submissions: round 2 has no answer yet, the latest answer is still round 1's
    assert (await system.view("Feed:BRENT", "latestRoundData"))[:2] == [1, BRENT]
    round2 = await system.view("Feed:BRENT", "getRoundData", 2)
    assert round2[0] == 2 and round2[1] == BRENT and round2[3] == 0 and round2[4] == 1  # answeredInRound 1
    receipt = await system.send(n[2], "Feed:BRENT", "submit", 2, 8_500_000_000)
    [updated] = await system.events(receipt, "Feed:BRENT", "AnswerUpdated")
    assert updated["current"] == 8_500_000_000 and updated["roundId"] == 2
    data = await system.view("Feed:BRENT", "latestRoundData")
    assert (data[0], data[1], data[4]) == (2, 8_500_000_000, 2)
    # a fourth submission: median of an even count is the mean of the middle two
    await system.send(n[3], "Feed:BRENT", "submit", 2, 9_500_000_000)
    assert (await system.view("Feed:BRENT", "latestRoundData"))[1] == (8_500_000_000 + 9_000_000_000) // 2
    await system.send(n[4], "Feed:BRENT", "submit", 2, 1)
    assert (await system.view("Feed:BRENT", "latestRoundData"))[1] == 8_500_000_000
    assert await system.view("Feed:BRENT", "submissionCount", 2) == 5


async def test_double_submission_reverts(system: System, who: Actors) -> None:
    node = who.nodes[0]
    await system.send(node, "Feed:WTI", "submit", 2, 7_900_000_000)
    error = await system.revert_of(node, "Feed:WTI", "submit", 2, 7_900_000_001)
    assert (error.error_name, error.error_args) == ("CommodityFeedAlreadySubmitted", (2, node))
    error = await system.revert_of(who.nodes[1], "Feed:WTI", "submit", 1, 7_900_000_000)
    assert (error.error_name, error.error_args) == ("CommodityFeedInvalidRound", (1, 3))


async def test_wrong_round_reverts(system: System, who: Actors) -> None:
    node = who.nodes[0]
    for wrong in (0, 3, 100):
        error = await system.revert_of(node, "Feed:GOLD", "submit", wrong, 1)
        assert (error.error_name, error.error_args) == ("CommodityFeedInvalidRound", (wrong, 2))
    # round 1 is still the open round, so a node that has not submitted could still join it; all five did
    error = await system.revert_of(node, "Feed:GOLD", "submit", 1, 1)
    assert error.error_name == "CommodityFeedAlreadySubmitted"


async def test_skipped_round_keeps_answered_in_round_behind(system: System, who: Actors) -> None:
    n = who.nodes
    await system.send(n[0], "Feed:COPPER", "submit", 2, 420_000_000)  # round 2 never completes
    await system.send(n[1], "Feed:COPPER", "submit", 3, 430_000_000)  # round 3 opens
    round3 = await system.view("Feed:COPPER", "getRoundData", 3)
    assert round3[4] == 1  # answer still from round 1
    assert await system.view("Feed:COPPER", "latestRound") == 3
    latest = await system.view("Feed:COPPER", "latestRoundData")
    assert latest[0] == 1 and latest[1] == 410_000_000
    error = await system.revert_of(n[0], "Feed:COPPER", "getRoundData", 4)
    assert (error.error_name, error.error_args) == ("CommodityFeedRoundNotFound", (4,))


async def test_every_feed_has_an_initial_answer(system: System) -> None:
    feeds = {name: entry for name, entry in system.manifest.contracts.items() if name.startswith("Feed:")}
    assert sorted(feeds) == sorted(
        f"Feed:{s}" for s in ("BRENT", "WTI", "GOLD", "WHEAT", "COPPER", "NATGAS", "CASH", "TBILL")
    )
    for name, entry in feeds.items():
        data = await system.view(name, "latestRoundData")
        assert data[1] == round(float(entry.meta["initial_price"]) * 10**8), name  # type: ignore[arg-type]


async def test_round_zero_and_future_rounds_have_no_data(system: System, who: Actors) -> None:
    for missing in (0, 2):
        error = await system.revert_of(who.attacker, "Feed:WHEAT", "getRoundData", missing)
        assert (error.error_name, error.error_args) == ("CommodityFeedRoundNotFound", (missing,))
    assert await system.view("Feed:WHEAT", "submissionOf", 1, who.attacker) == 0
    assert await system.view("Feed:WHEAT", "version") == 4
