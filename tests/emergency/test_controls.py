"""Platform controls on real objects: the RPC pool's isolation switch and the supervisor's restarts;
and recovery of a transaction signed before a crash (re-broadcast, not signed twice)."""

from __future__ import annotations

import asyncio

import pytest

from emergency.people import ARCHITECT, LEAD, SECURITY
from emergency.rig import Rig
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.emergency.controls import PoolControls
from fictra.emergency.runner import ActionRunner
from fictra.errors import ConflictError, NotFoundError
from fictra.platform.supervisor import Supervisor


async def test_isolate_and_restore_an_endpoint_of_the_real_pool(
    rig: Rig, rig_url: str, em_manifest: Manifest
) -> None:
    pool = RpcPool(
        network="devnet", urls=[rig_url, rig_url + "/"], clock=rig.clock, chain_id=em_manifest.chain_id
    )
    await pool.start()
    supervisor = Supervisor(clock=rig.clock, grace=1.0)
    controls = PoolControls(
        pool=pool, endpoint_names=["primary", "backup"], manifest=em_manifest, supervisor=supervisor
    )
    rig.runner.controls = controls
    try:
        view = await rig.propose("isolate", LEAD, params={"endpoint": "backup"})
        await rig.runner.dry_run(view.id)
        done = await rig.runner.execute(view.id, LEAD)
        assert done.status == "verified" and pool.endpoints[1].isolated and not pool.endpoints[0].isolated
        assert done.verification and done.verification["state"]["isolated_endpoints"] == ["backup"]
        for _ in range(5):
            await pool.call("eth_blockNumber")
        assert pool.endpoints[1].health.requests < pool.endpoints[0].health.requests
        with pytest.raises(ConflictError, match="without an RPC endpoint"):
            await controls.isolate(endpoint="primary")
        with pytest.raises(NotFoundError, match="No RPC endpoint named 'third'"):
            await controls.isolate(endpoint="third")
        back = await rig.propose("restore", ARCHITECT, params={"endpoint": "backup"})
        await rig.runner.dry_run(back.id)
        assert (await rig.runner.execute(back.id, ARCHITECT)).status == "verified"
        assert not pool.endpoints[1].isolated

        runs: list[int] = []

        async def component(stop: asyncio.Event) -> None:
            runs.append(1)
            await stop.wait()

        stop = asyncio.Event()
        task = asyncio.ensure_future(supervisor.component("worker", component)(stop))
        await asyncio.sleep(0)
        restart = await rig.propose("restart", LEAD, params={"component": "worker"})
        await rig.runner.dry_run(restart.id)
        done = await rig.runner.execute(restart.id, LEAD)
        assert done.status == "verified", done.error
        assert supervisor.state("worker").restarts == 1 and len(runs) == 2
        stop.set()
        await task
        missing = await rig.propose("restart", LEAD, params={"component": "nope"})
        await rig.runner.dry_run(missing.id)
        failed = await rig.runner.execute(missing.id, LEAD)
        assert failed.status == "failed" and "No platform component named 'nope'" in (failed.error or "")
    finally:
        await pool.aclose()


async def test_a_transaction_signed_before_a_crash_is_broadcast_on_recovery(rig: Rig) -> None:
    view = await rig.propose("pause_all", SECURITY)
    await rig.runner.dry_run(view.id)
    async with rig.sessions.begin() as s:
        from fictra.emergency import service

        action = await service.load_action(s, view.id, lock=True)
        action.status = "executing"
    (call,) = await rig.runner.plan(await rig.runner._facts(view.id))
    signed = await rig.runner.txs.send(view.id, call, broadcast=False)  # recorded, then the process "dies"
    assert signed is not None and signed.status == "signed"
    assert await rig.dev.rpc.call("eth_getTransactionByHash", [signed.tx_hash]) is None

    fresh = ActionRunner(
        sessions=rig.sessions, pool=rig.pool, manifest=rig.manifest, clock=rig.clock,
        config=rig.runner.config, data_dir=rig.runner.data_dir, controls=rig.controls,
    )  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.ensure_future(fresh.run(stop))
    fresh.wake()
    await fresh.settle()
    stop.set()
    await loop
    done = await rig.view(view.id)
    assert done.status == "verified", done.error
    assert [t.tx_hash for t in done.txs] == [signed.tx_hash]  # the same transaction, not a second one
    assert all((await rig.paused()).values())
