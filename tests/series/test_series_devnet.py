"""The series recorder inside the running platform on a real devnet: simulated activity (oracle rounds,
transfers) becomes chart series — throughput, gas, base fee, each feed's answer and its nodes'
submissions — served by the API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from e2e.harness import start
from fictra.api.app import create_app
from fictra.api.context import AppContext
from fictra.auth.actor import SYSTEM
from fictra.auth.permissions import load_roles
from fictra.auth.policy import DEFAULT_POLICY
from fictra.auth.service import create_user
from fictra.auth.tokens import create_token
from fictra.clock import SystemClock
from fictra.devnet.simulate import SimConfig, Simulator
from fictra.series.models import SeriesSample
from fictra.series.queries import series_names

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


async def test_platform_records_series_from_devnet_activity(tmp_path) -> None:
    running = await start(tmp_path)
    try:
        first = await running.head()
        stop = asyncio.Event()
        sim = Simulator(
            running.chain,
            config=SimConfig(rate=50, seed=3, kinds=("oracle", "pt_transfer")),
            store=running.scenarios.store,
        )
        task = asyncio.create_task(sim.run(stop=stop))
        for _ in range(600):  # until a couple of oracle rounds went through (bounded)
            await asyncio.sleep(0.1)
            if task.done() or sim.stats.kinds.get("oracle", 0) >= 8:
                break
        stop.set()
        await task
        await running.settle(seconds=60)
        last = await running.processed()
        platform = running.platform
        async with platform.sessions() as db:
            names = await series_names(db, network="devnet")
            counted = await db.scalar(
                select(func.count())
                .select_from(SeriesSample)
                .where(SeriesSample.name == "tx_count", SeriesSample.block_number > first)
            )
        assert {"tx_count", "tx_reverted", "gas_used_ratio", "base_fee_gwei", "block_interval_s"} <= set(
            names
        )
        assert counted == last - first  # one sample per processed block
        answers = [n for n in names if n.startswith("oracle.") and n.endswith(".answer")]
        nodes = [n for n in names if ".node.0x" in n]
        assert answers and nodes, names

        roles = load_roles(platform.settings.config_dir / "roles.yaml")
        context = AppContext(
            settings=platform.settings,
            sessions=platform.sessions,
            metrics=platform.metrics,
            clock=SystemClock(),
            status=dict,
            platform=platform,
            roles=roles,
        )
        async with platform.sessions.begin() as db:
            user = await create_user(
                db,
                username="viewer1",
                roles=["viewer"],
                password="Correct-Horse-Battery-Staple-9",
                role_map=roles,
                actor=SYSTEM,
                clock=context.clock,
            )
            token = await create_token(
                db,
                user=user,
                scopes=["metrics.read"],
                expires_in=timedelta(hours=1),
                role_map=roles,
                actor=SYSTEM,
                clock=context.clock,
                policy=DEFAULT_POLICY,
            )
        transport = httpx.ASGITransport(app=create_app(context=context))
        headers = {"Authorization": f"Bearer {token.token}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            response = await client.get(f"/api/v1/series/{answers[0]}", params={"step": 60})
        assert response.status_code == 200, response.text
        data = response.json()
        assert sum(p["count"] for p in data["points"]) >= 1 and all(p["avg"] > 0 for p in data["points"])
    finally:
        await running.close()
