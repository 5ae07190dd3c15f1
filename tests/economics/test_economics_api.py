"""The economics API and page through the real app: 404 before any observation, then the PT market as the
monitor stored it; the fee replay answers 409 without a running platform."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from api.rig import ApiRig, api_rig
from fictra.monitors.baseline_store import save_baselines

LATEST = {
    "block": 42, "price": 0.9312, "twap": 0.97, "volatility": 0.021, "reserve_pt": str(1_070_000 * 10**18),
    "reserve_cash": str(996_000 * 10**18), "impact_1pct": 0.0129, "impact_5pct": 0.05,
}  # fmt: skip


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[ApiRig]:
    async with api_rig(database_url, roles=["viewer"], alerts=0) as r:
        yield r


async def test_pool_page_and_fee_replay_without_a_platform(rig: ApiRig) -> None:
    viewer = rig.auth("viewer")
    assert (await rig.client.get("/api/v1/economics/pool", headers=viewer)).status_code == 404
    async with rig.sessions.begin() as session:
        await save_baselines(
            session, monitor="pt-market", states={"pool": {"latest": LATEST}}, clock=rig.clock
        )
    assert (await rig.client.get("/api/v1/economics/pool", headers=viewer)).json() == LATEST
    html = (await rig.client.get("/economics", headers=await rig.session_headers("viewer"))).text
    assert "0.9312" in html and "6.88% off the peg" in html and "2.100% per step" in html
    refused = await rig.client.get("/api/v1/economics/fee-impact?fee_bps=25", headers=viewer)
    assert refused.status_code == 409 and "fictra up" in refused.text
    assert (
        await rig.client.get("/api/v1/economics/fee-impact?fee_bps=101", headers=viewer)
    ).status_code == 422
