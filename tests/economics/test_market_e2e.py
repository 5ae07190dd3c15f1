"""The PT market on a real devnet with the platform running: a scripted sell of 8% of the pool's PT
reserve takes the price off its peg — the peg (P1) and volatility alerts fire within one block; the fee
impact over the chain's PT transfers equals what the fee collector actually received."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e.harness import start
from fictra.devnet.accounts import role
from fictra.platform.economics import assess_fee, supply_report

pytestmark = [pytest.mark.e2e]
E18 = 10**18


async def test_a_scripted_sell_fires_peg_and_volatility_and_the_fee_replay_matches_the_chain(
    tmp_path: Path,
) -> None:
    running = await start(tmp_path)
    try:
        p, chain = running.platform, running.chain
        traders = [a.address for a in role("traders")]
        collector = await chain.call("PaymentToken", "feeCollector")
        before = int(await chain.call("PaymentToken", "balanceOf", collector))
        sent = []
        for i in range(6):
            amount = (i + 1) * 1_234 * E18 + 7
            await chain.send(traders[i], "PaymentToken", "transfer", traders[i + 6], amount)
            sent.append(amount)
        received = int(await chain.call("PaymentToken", "balanceOf", collector)) - before
        impact, span = await assess_fee(
            p.pool, manifest=p.manifest, token="PaymentToken", fee_bps=25, blocks=50
        )
        assert impact.transfers == 6 and span["collector"].lower() == str(collector).lower()
        assert impact.revenue_now == received == sum(a * 10 // 10_000 for a in sent)
        assert impact.revenue_new == sum(a * 25 // 10_000 for a in sent)
        assert impact.participants_affected == 6
        supply = await supply_report(p.pool, manifest=p.manifest, token="PaymentToken", blocks=100_000)
        assert int(supply["supply_end"]) == int(await chain.call("PaymentToken", "totalSupply"))
        assert supply["mints"] == 13 and supply["holders"] >= 13  # the pool, 12 traders (and the collector)
        assert 0 < supply["gini"] < 1 and 0 < supply["top10_share"] <= 1

        await running.settle()
        pair = p.manifest.address("Pool:PT-CASH")
        token0 = str(await chain.contract("Pool:PT-CASH").functions.token0().call())
        r0, r1, _ = await chain.contract("Pool:PT-CASH").functions.getReserves().call()
        pt_is_0 = token0.lower() == p.manifest.address("PaymentToken").lower()
        r_pt, r_cash = (r0, r1) if pt_is_0 else (r1, r0)
        seller = traders[11]
        amount = r_pt * 8 // 100
        await chain.send(seller, "PaymentToken", "transfer", pair, amount)
        got = int(await chain.call("PaymentToken", "balanceOf", pair)) - r_pt
        out = got * 997 * r_cash // (r_pt * 1000 + got * 997) - 1
        outs = (0, out) if pt_is_0 else (out, 0)
        await chain.send(seller, "Pool:PT-CASH", "swap", outs[0], outs[1], seller, b"")

        def market(condition: str, severity: str):  # type: ignore[no-untyped-def]
            return lambda a: (
                a.monitor == "pt-market"
                and a.labels.get("condition") == condition
                and (a.severity == severity)
            )

        peg = await running.wait_for_alert(market("peg_deviation", "P1"), within_blocks=1)
        assert "off the peg" in peg.summary and float(peg.evidence["deviation"]) > 0.05  # type: ignore[arg-type]
        await running.wait_for_alert(market("volatility", "P1"), within_blocks=1)
    finally:
        await running.close()
