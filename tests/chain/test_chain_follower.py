"""Catch-up, exactly-once delivery, restart and consumer failure against a real Anvil and database."""

from __future__ import annotations

import asyncio

import pytest
from chainkit import Chain, Recorder, create_seen_table, seen_numbers, write_seen
from netkit import RpcFront
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fictra.chain.checkpoint import load_checkpoint, load_hashes
from fictra.chain.follower import Follower
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import SystemClock
from fictra.devnet.anvil import AnvilNode
from fictra.metrics import new_registry


def make_follower(
    pool: RpcPool, sessions: async_sessionmaker[AsyncSession], rec: Recorder, **kwargs: object
) -> Follower:
    options: dict[str, object] = {"batch_size": 32, "prefetch": 3, "poll_interval": 0.05, "subscribe": False}
    options.update(kwargs)
    return Follower(
        network="devnet",
        pool=pool,
        sessions=sessions,
        on_batch=rec.on_batch,
        on_reorg=rec.on_reorg,
        clock=SystemClock(),
        **options,  # type: ignore[arg-type]
    )


async def test_catch_up_delivers_every_block_once_in_order_matching_the_node(
    chain: Chain, pool: RpcPool, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chain.fill(blocks=90, txs_per_block=3)
    chain.mine_empty(150)
    head = chain.head()
    rec = Recorder(stop_at=head)
    metrics = new_registry()
    follower = make_follower(pool, sessions, rec, start_block=0, metrics=metrics)
    await asyncio.wait_for(follower.run(rec.stop), timeout=60)

    assert rec.numbers == list(range(head + 1))
    assert len(rec.batches) > 5, "catch-up must use several batches"
    assert rec.batches[-1].at_head and rec.batches[-1].head == head
    assert not rec.batches[0].at_head
    assert follower.counters["txs"] == 1 + 90 * 3  # the emitter deployment + the fill
    blocks = [b for batch in rec.batches for b in batch.blocks]
    raws = chain.batch([("eth_getBlockByNumber", [hex(b.number), True]) for b in blocks])
    receipts = chain.batch([("eth_getBlockReceipts", [hex(b.number)]) for b in blocks])
    logs_seen = 0
    for block, raw, recs in zip(blocks, raws, receipts, strict=True):
        assert block.hash == raw["hash"] and block.parent_hash == raw["parentHash"]
        assert [t.hash for t in block.txs] == [t["hash"] for t in raw["transactions"]]
        assert block.timestamp == int(raw["timestamp"], 16)
        for tx, node_tx, receipt in zip(block.txs, raw["transactions"], recs, strict=True):
            assert tx.sender == node_tx["from"].lower()
            assert tx.value == int(node_tx["value"], 16) and tx.nonce == int(node_tx["nonce"], 16)
            assert tx.status == int(receipt["status"], 16) and tx.gas_used == int(receipt["gasUsed"], 16)
            assert [(lg.address, lg.topics, lg.log_index) for lg in tx.logs] == [
                (lg["address"].lower(), tuple(lg["topics"]), int(lg["logIndex"], 16))
                for lg in receipt["logs"]
            ]
            logs_seen += len(tx.logs)
    assert logs_seen == 90  # one log per emitter call (every second tx of the fill, 1 of 3 per block)
    async with sessions() as session:
        checkpoint = await load_checkpoint(session, network="devnet")
        hashes = await load_hashes(session, network="devnet")
    assert checkpoint is not None and (checkpoint.number, checkpoint.hash) == (head, blocks[-1].hash)
    assert sorted(hashes) == list(range(head - 127, head + 1)), "only the last 128 hashes are kept"
    assert follower.lag == 0
    status = follower.status()
    assert (status.last_block, status.head, status.lag, status.counters["blocks"]) == (
        head,
        head,
        0,
        head + 1,
    )
    assert status.endpoints[0].state == "healthy" and status.endpoints[0].last_head == head
    sample = metrics.registry.get_sample_value
    assert sample("fictra_blocks_processed_total", {"network": "devnet"}) == head + 1
    assert sample("fictra_transactions_processed_total", {"network": "devnet"}) == 271
    assert sample("fictra_follower_processed_block", {"network": "devnet"}) == head
    assert sample("fictra_follower_lag_blocks", {"network": "devnet"}) == 0


async def test_restart_resumes_from_the_checkpoint_without_gap_or_repeat(
    chain: Chain, pool: RpcPool, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    await create_seen_table(engine)
    chain.mine_empty(40)
    first = Recorder(stop_at=40, extra=write_seen)
    await asyncio.wait_for(make_follower(pool, sessions, first, start_block=5).run(first.stop), timeout=30)
    assert first.numbers == list(range(5, 41))

    chain.fill(blocks=10, txs_per_block=2)
    chain.mine_empty(30)
    head = chain.head()
    second = Recorder(stop_at=head, extra=write_seen)
    # start_block is only for the first start: the checkpoint wins
    await asyncio.wait_for(make_follower(pool, sessions, second, start_block=0).run(second.stop), timeout=30)
    assert second.numbers == list(range(41, head + 1))
    assert await seen_numbers(engine) == list(range(5, head + 1))


async def test_failing_consumer_leaves_the_checkpoint_unchanged(
    chain: Chain, pool: RpcPool, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    await create_seen_table(engine)
    chain.mine_empty(100)
    rec = Recorder(fail_at=70, extra=write_seen)
    with pytest.raises(RuntimeError, match="consumer fails at block 70"):
        await asyncio.wait_for(make_follower(pool, sessions, rec, start_block=1).run(rec.stop), timeout=30)
    delivered = rec.numbers
    assert delivered == list(range(1, delivered[-1] + 1)) and delivered[-1] < 70
    async with sessions() as session:
        checkpoint = await load_checkpoint(session, network="devnet")
    assert checkpoint is not None and checkpoint.number == delivered[-1]
    assert await seen_numbers(engine) == delivered, "the failed batch's writes were rolled back"

    retry = Recorder(stop_at=100, extra=write_seen)
    await asyncio.wait_for(make_follower(pool, sessions, retry).run(retry.stop), timeout=30)
    assert retry.numbers[0] == delivered[-1] + 1
    assert await seen_numbers(engine) == list(range(1, 101))


async def test_first_start_defaults_to_the_head_or_the_manifest_block(
    chain: Chain, pool: RpcPool, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chain.mine_empty(20)
    rec = Recorder(stop_at=20)
    await asyncio.wait_for(make_follower(pool, sessions, rec).run(rec.stop), timeout=30)
    assert rec.numbers == [20] and rec.batches[0].at_head

    other = Recorder(stop_at=20)
    manifest = Manifest(chain_id=31337, rpc_url=chain.url, deployed_block=17, contracts={})
    follower = Follower(
        network="other",
        pool=pool,
        sessions=sessions,
        on_batch=other.on_batch,
        clock=SystemClock(),
        manifest=manifest,
        subscribe=False,
    )
    await asyncio.wait_for(follower.run(other.stop), timeout=30)
    assert other.numbers == [17, 18, 19, 20]


async def test_follows_the_head_and_delivers_new_blocks_at_once(
    chain: Chain, pool: RpcPool, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chain.deploy_emitter()
    chain.mine_empty(2)
    rec = Recorder()
    follower = make_follower(pool, sessions, rec, start_block=1, poll_interval=5.0, subscribe=True)
    task = asyncio.create_task(follower.run(rec.stop))
    try:
        for step in range(3):
            before = chain.head()
            if step == 1:
                await asyncio.to_thread(chain.fill, blocks=1, txs_per_block=2)
            else:
                await asyncio.to_thread(chain.mine_empty, 1)
            # poll_interval is 5 s: arriving well before that proves the websocket newHeads wake-up
            async with asyncio.timeout(3):
                await rec.wait_past(before)
            assert rec.batches[-1].at_head and rec.batches[-1].head == rec.numbers[-1] == before + 1
        assert rec.batches[-1].received_at > 0
        assert len(rec.batches[-2].blocks[0].txs) == 2
    finally:
        rec.stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert rec.numbers == list(range(1, rec.numbers[-1] + 1))


async def test_without_websocket_support_the_follower_polls(
    anvil: AnvilNode,
    chain: Chain,
    sessions: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    front = await RpcFront(anvil.rpc_url).start()  # HTTP only: the newHeads subscription fails
    pool = RpcPool(network="devnet", urls=[front.url], clock=SystemClock())
    rec = Recorder()
    try:
        await pool.start()
        follower = make_follower(pool, sessions, rec, start_block=0, poll_interval=0.05, subscribe=True)
        task = asyncio.create_task(follower.run(rec.stop))
        for _ in range(3):
            before = chain.head()
            await asyncio.to_thread(chain.mine_empty, 1)
            async with asyncio.timeout(5):
                await rec.wait_past(before)
        rec.stop.set()
        await asyncio.wait_for(task, timeout=10)
    finally:
        await pool.aclose()
        await front.stop()
    assert rec.numbers == list(range(chain.head() + 1))
    assert f"newHeads subscription on 'ws://127.0.0.1:{front.port}' failed" in caplog.text
