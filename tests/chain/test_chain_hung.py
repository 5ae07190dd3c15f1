"""A hung endpoint (accepts, never answers) adds no lag while another is healthy; catch-up over a node
that keeps no old state finishes, reading at the head and recording the gap."""

from __future__ import annotations

import asyncio
import time

from chainkit import Chain, Recorder
from netkit import TcpProxy
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.chain.follower import Follower
from fictra.chain.pool import EndpointState, RpcPool
from fictra.chain.statereads import at_latest, block_of
from fictra.chain.types import BlockBatch
from fictra.clock import SystemClock
from fictra.devnet.anvil import AnvilNode

DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


async def test_a_hung_endpoint_adds_no_lag_while_another_is_healthy(
    anvil: AnvilNode, chain: Chain, sessions: async_sessionmaker[AsyncSession]
) -> None:
    port = int(anvil.rpc_url.rsplit(":", 1)[1])
    proxies = [await TcpProxy(port).start(), await TcpProxy(port).start()]
    pool = RpcPool(
        network="devnet", urls=[p.url for p in proxies], clock=SystemClock(), chain_id=31337, timeout=10.0
    )
    rec = Recorder()
    try:
        await pool.start()
        follower = Follower(
            network="devnet",
            pool=pool,
            sessions=sessions,
            on_batch=rec.on_batch,
            clock=SystemClock(),
            start_block=chain.head() + 1,
            subscribe=False,
            poll_interval=0.05,
        )
        task = asyncio.create_task(follower.run(rec.stop))
        before = chain.head()
        await asyncio.to_thread(chain.mine_empty, 1)
        async with asyncio.timeout(5):
            await rec.wait_past(before)
        # the endpoint the pool prefers now accepts requests and never answers
        preferred = min(range(2), key=lambda i: pool.endpoints[i].health.latency_ewma or 0.0)
        proxies[preferred].hang = True
        delays = []
        for _ in range(6):
            before = chain.head()
            mined = time.monotonic()
            await asyncio.to_thread(chain.mine_empty, 1)
            async with asyncio.timeout(8):
                await rec.wait_past(before)
            delays.append(time.monotonic() - mined)
        started = time.monotonic()
        await pool.refresh_heads()
        refresh = time.monotonic() - started
        rec.stop.set()
        await asyncio.wait_for(task, timeout=10)
        hung = pool.health()[preferred]
    finally:
        await pool.aclose()
        for p in proxies:
            await p.stop()
    # the client timeout is 10 s: waiting on the hung endpoint would show as seconds here
    assert max(delays) < 2.5, delays
    assert sorted(delays)[len(delays) // 2] < 0.75, delays
    assert refresh < 0.5, f"refresh_heads waited {refresh:.2f}s on the hung endpoint"
    assert hung.state != EndpointState.HEALTHY and hung.last_error is not None
    assert rec.numbers == list(range(rec.numbers[0], rec.numbers[-1] + 1))


def test_state_calls_are_rewritten_to_the_head() -> None:
    calls = [
        ("eth_call", [{"to": DEV0, "data": "0x"}, "0x10"]),
        ("eth_getStorageAt", [DEV0, "0x0", "0x12"]),
        ("eth_getBlockByNumber", ["0x13", False]),
    ]
    assert block_of(calls) == 0x12
    assert block_of([("eth_blockNumber", [])]) is None
    assert at_latest(calls) == [
        ("eth_call", [{"to": DEV0, "data": "0x"}, "latest"]),
        ("eth_getStorageAt", [DEV0, "0x0", "latest"]),
        ("eth_getBlockByNumber", ["0x13", False]),
    ]


async def test_catch_up_past_the_nodes_state_window_finishes_and_records_the_gap(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with AnvilNode(extra_args=["--prune-history", "16"]) as node:
        chain = Chain(node.rpc_url)
        try:
            chain.fill(blocks=6, txs_per_block=2)
            chain.mine_empty(300)
            head = chain.head()
        finally:
            chain.close()
        pool = RpcPool(network="devnet", urls=[node.rpc_url], clock=SystemClock(), chain_id=31337)
        notes: list[dict[str, object]] = []

        async def read_state(batch: BlockBatch, session: AsyncSession) -> None:
            # what the contract-status and oracle monitors do: reads at the batch's last block
            reads = await pool.read_state(
                [("eth_getBalance", [DEV0, hex(batch.last)]), ("eth_getCode", [DEV0, hex(batch.last)])]
            )
            assert isinstance(reads.answers[0], str) and reads.answers[0].startswith("0x")
            notes.append(reads.note)

        rec = Recorder(stop_at=head, extra=read_state)
        try:
            await pool.start()
            archive = pool.notes
            follower = Follower(
                network="devnet",
                pool=pool,
                sessions=sessions,
                on_batch=rec.on_batch,
                clock=SystemClock(),
                start_block=1,
                batch_size=20,
                subscribe=False,
            )
            await asyncio.wait_for(follower.run(rec.stop), timeout=60)
        finally:
            await pool.aclose()
    assert rec.numbers == list(range(1, head + 1))
    assert len(archive) == 1 and "is not an archive node" in archive[0]
    gaps = pool.state_gaps
    assert gaps.fallbacks >= 10 and gaps.first_block == 20
    assert gaps.last_block is not None and gaps.last_block < head
    assert notes[0]["state_read_at"] == "head" and notes[0]["state_block"] == 20
    assert "read at the head" in str(notes[0]["state_note"])
    assert notes[-1] == {}, "the last batches are inside the node's window: read at their own block"
    assert follower.status().counters["state_fallbacks"] == gaps.fallbacks
