"""Economics as pure functions: Uniswap V2 depth and TWAP, EWMA volatility (numpy against the recursion by
hand), the alerts on a scripted price path and none on a quiet one, and the fee impact of a proposed fee over
10,000 simulated PT transfers against an independent recomputation."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from fictra.alerting.findings import BlockRef, Severity
from fictra.economics.config import PoolMonitorConfig
from fictra.economics.fees import Transfer, fee_impact
from fictra.economics.monitor import market_findings
from fictra.economics.pool import Q112, PoolState, amount_out, price_impact, twap
from fictra.economics.volatility import ewma_update, ewma_volatility

E18 = 10**18
AT = BlockRef(1, "0x01")


def pool(pt: int, cash: int) -> PoolState:
    return PoolState(1, 100, pt * E18, cash * E18, 0, 100)


def test_depth_and_twap_follow_the_pair_arithmetic() -> None:
    assert amount_out(10_000 * E18, 1_000_000 * E18, 1_000_000 * E18) == (
        10_000 * E18 * 997 * 1_000_000 * E18 // (1_000_000 * E18 * 1000 + 10_000 * E18 * 997)
    )
    # selling 1% of a balanced pool: 0.3% fee plus ~0.99% slippage
    assert pool(1_000_000, 1_000_000).depth(0.01) == pytest.approx(1 - 0.997 / 1.00997, rel=1e-9)
    assert pool(1_000_000, 1_000_000).depth(0.05) == pytest.approx(1 - 0.997 / 1.04985, rel=1e-9)
    assert price_impact(0, 1, 1) == 0.0
    # the price 1.0 for 50 s, then 1.2 for 50 s: TWAP 1.1
    c50 = Q112 * 50
    c100 = c50 + int(1.2 * Q112) * 50
    assert twap(c100, 0, 100, 0) == pytest.approx(1.1)
    assert twap(5, 5, 10, 10) is None
    state = PoolState(1, 100, 2 * E18, 3 * E18, 0, 90)
    assert state.cumulative_at(100) == (3 * E18 * Q112 // (2 * E18)) * 10


def test_ewma_matches_the_recursion() -> None:
    prices = [1.0, 1.01, 0.99, 1.02, 1.0, 0.97]
    vol = ewma_volatility(prices)
    var = None
    for a, b in itertools.pairwise(prices):
        var = ewma_update(var, a, b)
    assert vol[-1] == pytest.approx(var**0.5)  # type: ignore[operator]
    r = np.diff(np.log(prices))
    by_hand = r[0] ** 2
    for x in r[1:]:
        by_hand = 0.94 * by_hand + 0.06 * x * x
    assert vol[-1] == pytest.approx(by_hand**0.5)


def _run(path: list[float], config: PoolMonitorConfig) -> list[tuple[str, Severity]]:
    fired: list[tuple[str, Severity]] = []
    var, last = None, None
    for price in path:
        if last is not None:
            var = ewma_update(var, last, price)
        last = price
        state = pool(1_000_000, int(1_000_000 * price))
        held, _ = market_findings(state, var**0.5 if var else None, None, config, network="devnet", at=AT)
        fired += [(f.labels["condition"], f.severity) for f in held]
    return fired


def test_peg_and_volatility_alerts_fire_on_a_scripted_path_and_not_on_a_quiet_one() -> None:
    config = PoolMonitorConfig()
    quiet = [1.0 + random.Random(7).uniform(-0.004, 0.004) for _ in range(300)]
    assert _run(quiet, config) == []
    crash = [1.0, 1.0, 0.99, 0.97, 0.94, 0.91, 0.75, 0.80, 0.95, 1.0]
    fired = _run(crash, config)
    assert ("peg_deviation", Severity.P2) in fired and ("peg_deviation", Severity.P1) in fired
    assert ("volatility", Severity.P2) in fired and ("volatility", Severity.P1) in fired
    # one trade 2.5% off while the TWAP is 0.997: no sustained depeg, no alert; 6% off at once: P1
    one_trade, _ = market_findings(pool(1_000_000, 975_000), None, 0.997, config, network="devnet", at=AT)
    assert one_trade == []
    crash, _ = market_findings(pool(1_000_000, 940_000), None, 0.997, config, network="devnet", at=AT)
    assert [(f.labels["condition"], f.severity) for f in crash] == [("peg_deviation", Severity.P1)]


def _independent(transfers: list[Transfer], bps: int, collector: str) -> tuple[int, list[int], set[str]]:
    fees, senders = [], set()
    for t in transfers:
        if t.sender in ("0x" + "0" * 40, collector) or t.recipient == "0x" + "0" * 40:
            continue
        fees.append(t.value * bps // 10_000)
        senders.add(t.sender)
    return sum(fees), fees, senders


def test_fee_impact_over_ten_thousand_transfers_equals_an_independent_recomputation() -> None:
    rng = random.Random(16)
    people = [f"0x{i:040x}" for i in range(1, 41)]
    collector, zero = people[0], "0x" + "0" * 40
    transfers = []
    for i in range(10_500):
        sender = zero if i % 700 == 0 else rng.choice(people)  # a few mints
        recipient = rng.choice(people)
        transfers.append(Transfer(sender, recipient, rng.randint(1, 5_000_000) * 10**15))
    impact = fee_impact(transfers, fee_bps_now=10, fee_bps_new=25, collector=collector)
    now_total, now_fees, senders = _independent(transfers, 10, collector)
    new_total, new_fees, _ = _independent(transfers, 25, collector)
    mid = len(new_fees) // 2
    ordered = sorted(new_fees)
    median_new = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) // 2
    assert impact.transfers == len(now_fees) >= 10_000
    assert (impact.revenue_now, impact.revenue_new) == (now_total, new_total)
    assert impact.median_cost_new == median_new and impact.median_cost_now < median_new
    assert impact.participants_affected == len(senders)
    same = fee_impact(transfers, fee_bps_now=10, fee_bps_new=10, collector=collector)
    assert same.participants_affected == 0 and same.revenue_new == same.revenue_now
