"""The reserve API and console page through the real app (real users; SQLite and PostgreSQL): 404 before
any proof, then the latest proof, the ratio history and the page with its assets table and chart."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from api.rig import ApiRig, api_rig
from fictra.reserve.config import ReserveConfig
from fictra.reserve.models import ReserveProof

E18 = 10**18
SUPPLY = 2_200_000 * E18


def _asset(symbol: str, value: int, *, stale: bool = False) -> dict[str, object]:
    return {
        "symbol": symbol, "token": "0x" + "1" * 40, "feed": f"Feed:{symbol}", "balance": str(value * E18),
        "decimals": 18, "price": 1.0, "round_id": 2, "updated_at": 1, "age_s": 5, "max_age_s": 3600,
        "value": str(value * E18), "counted": "0" if stale else str(value * E18), "stale": stale,
        "reason": "price is 4000 s old (max 3600 s)" if stale else None,
    }  # fmt: skip


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[ApiRig]:
    async with api_rig(database_url, roles=["viewer"], alerts=0) as r:
        policy = ReserveConfig.model_validate(
            {"allocation": {"CASH": {"target": 0.5, "band": 0.05}, "GOLD": {"target": 0.5, "band": 0.05}}}
        )
        r.context.config = dataclasses.replace(r.context.config_set, reserve=policy)
        yield r


async def test_proof_history_and_page(rig: ApiRig) -> None:
    viewer = rig.auth("viewer")
    missing = await rig.client.get("/api/v1/reserve/proof", headers=viewer)
    assert missing.status_code == 404 and "No proof of reserve" in missing.text
    assert (await rig.client.get("/api/v1/reserve/proof")).status_code == 401
    async with rig.sessions.begin() as session:
        for block, cash, gold_stale in ((10, 3_200_000, False), (11, 1_100_000, True)):
            assets = [_asset("CASH", cash), _asset("GOLD", 1_200_000, stale=gold_stale)]
            value = sum(int(str(a["counted"])) for a in assets)
            session.add(
                ReserveProof(
                    network="devnet", block_number=block, block_time=1000 + block, supply=str(SUPPLY),
                    value=str(value), ratio=value / SUPPLY, stale=int(gold_stale), assets=assets,
                    recorded_at=rig.clock.now(),
                )
            )  # fmt: skip
    proof = (await rig.client.get("/api/v1/reserve/proof", headers=viewer)).json()
    assert proof["block"] == 11 and proof["stale"] == ["GOLD"] and proof["ratio"] == 0.5
    history = (await rig.client.get("/api/v1/reserve/history?limit=10", headers=viewer)).json()
    assert history == [{"block": 10, "ratio": 2.0}, {"block": 11, "ratio": 0.5}]
    html = (await rig.client.get("/reserve", headers=await rig.session_headers("viewer"))).text
    assert 'data-asset="GOLD" data-stale="true"' in html and "0 (stale)" in html
    assert "<polyline" in html and "50.00%" in html
    # the policy: CASH and GOLD 50% ± 5% each; GOLD's stale price leaves CASH as 100% of the counted value
    assert 'data-asset="CASH" data-breach="true"' in html and "out of band" in html
