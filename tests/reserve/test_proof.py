"""The proof of reserve as a pure computation, its findings and the publisher's decision rule."""

from __future__ import annotations

from fictra.alerting.findings import BlockRef, Severity
from fictra.reserve.config import ProofConfig, ReserveConfig, check_references
from fictra.reserve.monitor import findings_of
from fictra.reserve.proof import AssetReading, compute_proof
from fictra.reserve.publish import needs_update

E18 = 10**18
NOW = 1_800_000_000


def reading(symbol: str, balance: int, price: float, *, age: int = 10, max_age: int = 3600) -> AssetReading:
    return AssetReading(
        symbol=symbol, token=f"0x{symbol}", feed=f"Feed:{symbol}", balance=balance * E18, decimals=18,
        answer=round(price * 10**8), feed_decimals=8, round_id=3, updated_at=NOW - age, max_age=max_age,
    )  # fmt: skip


def test_value_matches_the_contract_formula_and_the_ratio_is_value_over_supply() -> None:
    proof = compute_proof(
        [reading("CASH", 1_100_000, 1.0), reading("TBILL", 10_000, 100.0), reading("GOLD", 600, 2000.0)],
        supply=2_200_000 * E18, block=7, timestamp=NOW,
    )  # fmt: skip
    assert proof.value == 3_300_000 * E18  # the devnet's seeded reserveValue()
    assert proof.ratio == 1.5 and proof.stale == []
    held, released = findings_of(proof, ProofConfig(), network="devnet", at=BlockRef(7, "0x07"))
    assert held == [] and {"contract": "Reserve", "condition": "collateral_below_full"} in released


def test_a_stale_price_values_its_asset_at_zero_and_raises_its_own_alert() -> None:
    gold = reading("GOLD", 600, 2000.0, age=3601)
    proof = compute_proof(
        [reading("CASH", 1_100_000, 1.0), reading("TBILL", 10_000, 100.0), gold],
        supply=2_200_000 * E18, block=9, timestamp=NOW,
    )  # fmt: skip
    [stale] = proof.stale
    assert stale.reading.symbol == "GOLD" and stale.value == 1_200_000 * E18 and stale.counted == 0
    assert proof.value == 2_100_000 * E18 and proof.ratio is not None and proof.ratio < 1
    held, _ = findings_of(proof, ProofConfig(), network="devnet", at=BlockRef(9, "0x09"))
    by_condition = {f.labels["condition"]: f for f in held}
    assert by_condition["collateral_below_full"].severity is Severity.P0
    assert "stale prices valued at zero: GOLD" in by_condition["collateral_below_full"].summary
    assert by_condition["reserve_price_stale"].labels["asset"] == "GOLD"
    assert by_condition["reserve_price_stale"].severity is Severity.P1
    assert "3601 s old (max 3600 s)" in by_condition["reserve_price_stale"].summary


def test_non_positive_price_counts_as_zero_and_no_supply_has_no_ratio() -> None:
    proof = compute_proof([reading("CASH", 10, -1.0)], supply=0, block=1, timestamp=NOW)
    assert (
        proof.value == 0
        and proof.ratio is None
        and proof.stale[0].reason == "price -100000000 is not positive"
    )
    held, _ = findings_of(proof, ProofConfig(), network="devnet", at=BlockRef(1, "0x01"))
    assert [f.labels["condition"] for f in held] == ["reserve_price_stale"]


def test_publisher_publishes_on_a_move_or_when_the_answer_is_old() -> None:
    rule = {"min_change_bps": 10, "max_age": 3600, "now": NOW}
    assert not needs_update(value=1000 * E18, published=1000 * E18, published_at=NOW - 5, **rule)
    assert not needs_update(
        value=1000 * E18 + 99 * 10**15, published=1000 * E18, published_at=NOW - 5, **rule
    )
    assert needs_update(value=999 * E18, published=1000 * E18, published_at=NOW - 5, **rule)  # 10 bps
    assert needs_update(value=1000 * E18, published=1000 * E18, published_at=NOW - 3600, **rule)
    assert needs_update(value=1, published=0, published_at=0, **rule)


def test_reference_check_names_the_missing_contract() -> None:
    config = ReserveConfig.model_validate({"proof": {"reserve": "Vault"}, "publisher": {"enabled": True}})
    problems = check_references(config, contracts=["PaymentToken", "Reserve"])
    assert problems[0].startswith("reserve.yaml:proof.reserve: contract 'Vault' is not in the deployment")
    assert problems[1].startswith("reserve.yaml:publisher.feed: contract 'ProofOfReserve'")
    assert check_references(ReserveConfig(), contracts=None) == []


def test_drift_and_exact_rebalancing_trades_within_the_liquidity_limit() -> None:
    from fictra.reserve.config import AllocationTarget
    from fictra.reserve.policy import drift, rebalance_trades

    proof = compute_proof(
        [reading("CASH", 1_100_000, 1.0), reading("TBILL", 10_000, 100.0), reading("GOLD", 600, 4000.0)],
        supply=2_200_000 * E18, block=5, timestamp=NOW,
    )  # fmt: skip
    policy = {
        "CASH": AllocationTarget(target=0.35, band=0.05),
        "TBILL": AllocationTarget(target=0.30, band=0.05),
        "GOLD": AllocationTarget(target=0.35, band=0.05, tier=2, max_trade_usd=500_000),
    }
    by = {d.symbol: d for d in drift(proof, policy)}
    assert round(by["GOLD"].weight, 4) == 0.5333 and by["GOLD"].breach and by["CASH"].breach
    trades = [(t.symbol, t.side, t.units, t.usd) for t in rebalance_trades(proof, policy)]
    assert trades == [
        ("GOLD", "sell", 125 * E18, 500_000 * E18),  # 825,000 USD wanted, capped at 500,000: 125 oz at 4,000
        ("CASH", "buy", 475_000 * E18, 475_000 * E18),
        ("TBILL", "buy", 3_500 * E18, 350_000 * E18),
    ]


def test_liquidity_tier1_share_and_redemption_stress() -> None:
    from fictra.reserve.config import AllocationTarget, LiquidityPolicy, ProofConfig
    from fictra.reserve.monitor import liquidity_findings

    proof = compute_proof(
        [reading("CASH", 1_100_000, 1.0), reading("TBILL", 10_000, 100.0), reading("GOLD", 600, 2000.0)],
        supply=2_200_000 * E18, block=5, timestamp=NOW,
    )  # fmt: skip
    tiers = {
        "CASH": AllocationTarget(target=0.35, band=0.05, tier=1),
        "TBILL": AllocationTarget(target=0.30, band=0.05, tier=1),
        "GOLD": AllocationTarget(target=0.35, band=0.05, tier=2),
    }
    at = BlockRef(5, "0x05")
    held, released = liquidity_findings(
        proof, ProofConfig(), tiers, LiquidityPolicy(), network="devnet", at=at
    )
    assert held == [] and released == [
        {"contract": "Reserve", "condition": "liquidity_short"}
    ]  # 63.6% tier 1
    stress = LiquidityPolicy(min_tier1_share=0.5, stress_redemption_share=1.0)  # all PT at once: 2.1M < 2.2M
    [short] = liquidity_findings(proof, ProofConfig(), tiers, stress, network="devnet", at=at)[0]
    assert "tier-1 assets are 63.6% of the reserve" in short.summary
    assert "cover 2,100,000 USD of a 2,200,000 USD redemption stress" in short.summary
