"""Endpoint pool: failover, health records, lagging endpoints, bad endpoints, fallbacks."""

from __future__ import annotations

import asyncio

import pytest
from chainkit import Chain, Recorder
from netkit import RpcFront, TcpProxy
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.chain.fetch import fetch_blocks
from fictra.chain.follower import Follower
from fictra.chain.pool import EndpointState, RpcPool
from fictra.chain.rpc import RpcClient, RpcMethodMissing
from fictra.chain.types import BlockBatch
from fictra.clock import FakeClock, SystemClock
from fictra.devnet.anvil import AnvilNode, free_port
from fictra.errors import ChainError, ConfigError, RpcError
from fictra.metrics import new_registry


async def test_failover_when_the_serving_endpoint_stops_keeps_every_block(
    anvil: AnvilNode, chain: Chain, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chain.fill(blocks=20, txs_per_block=2)
    chain.mine_empty(180)
    head = chain.head()
    port = int(anvil.rpc_url.rsplit(":", 1)[1])
    proxies = [await TcpProxy(port).start(), await TcpProxy(port).start()]
    pool = RpcPool(
        network="devnet",
        urls=[p.url for p in proxies],
        clock=SystemClock(),
        chain_id=31337,
        timeout=2.0,
        backoff_base=0.0,
        down_after=2,
        metrics=(metrics := new_registry()),
    )
    stopped: list[TcpProxy] = []

    async def stop_the_busy_one(batch: BlockBatch, session: AsyncSession) -> None:
        if not stopped and batch.last >= 50:
            busy = max(proxies, key=lambda p: p.bytes_up)
            stopped.append(busy)
            await busy.stop()

    rec = Recorder(stop_at=head, extra=stop_the_busy_one)
    try:
        await pool.start()
        follower = Follower(
            network="devnet",
            pool=pool,
            sessions=sessions,
            on_batch=rec.on_batch,
            clock=SystemClock(),
            start_block=0,
            batch_size=10,
            prefetch=2,
            subscribe=False,
            poll_interval=0.05,
        )
        await asyncio.wait_for(follower.run(rec.stop), timeout=60)
        await pool.refresh_heads()
        await pool.refresh_heads()
        health = {h.url: h for h in pool.health()}
    finally:
        await pool.aclose()
        for p in proxies:
            await p.stop()
    assert rec.numbers == list(range(head + 1))
    dead = health[stopped[0].url]
    alive = next(h for h in health.values() if h is not dead)
    assert dead.state == EndpointState.DOWN and dead.consecutive_errors >= 2
    assert dead.last_error is not None and "unreachable" in dead.last_error
    assert alive.state == EndpointState.HEALTHY and alive.last_head == head
    assert alive.latency_ewma is not None and alive.latency_ewma > 0
    sample = metrics.registry.get_sample_value
    assert sample("fictra_endpoint_up", {"network": "devnet", "endpoint": dead.url}) == 0
    assert sample("fictra_endpoint_up", {"network": "devnet", "endpoint": alive.url}) == 1
    assert (sample("fictra_rpc_errors_total", {"network": "devnet", "endpoint": dead.url}) or 0) >= 2


async def test_an_endpoint_behind_the_best_head_is_avoided(
    anvil: AnvilNode, chain: Chain, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chain.mine_empty(60)
    head = chain.head()
    with AnvilNode() as lagging:  # same chain id, but only at block 0: far behind
        pool = RpcPool(
            network="devnet", urls=[lagging.rpc_url, anvil.rpc_url], clock=SystemClock(), max_lag_blocks=5
        )
        rec = Recorder(stop_at=head)
        try:
            await pool.start()
            lag_health = pool.health()[0]
            assert lag_health.state == EndpointState.DEGRADED
            assert lag_health.last_error == "behind the best head by 60 blocks (limit 5)"
            follower = Follower(
                network="devnet",
                pool=pool,
                sessions=sessions,
                on_batch=rec.on_batch,
                clock=SystemClock(),
                start_block=1,
                batch_size=7,
                subscribe=False,
            )
            await asyncio.wait_for(follower.run(rec.stop), timeout=30)
            requests_to_lagging = pool.health()[0].errors
        finally:
            await pool.aclose()
    hashes = chain.batch([("eth_getBlockByNumber", [hex(n), False]) for n in range(1, head + 1)])
    assert [b.hash for batch in rec.batches for b in batch.blocks] == [h["hash"] for h in hashes]
    assert requests_to_lagging == 0, "no block fetch was sent to the lagging endpoint"


async def test_unreachable_endpoint_at_start_names_the_redacted_url() -> None:
    port = free_port()
    url = f"http://operator:s3cret@127.0.0.1:{port}/rpc?apikey=abc123"
    pool = RpcPool(network="mainnet", urls=[url], clock=FakeClock(), timeout=1.0)
    try:
        with pytest.raises(ChainError) as caught:
            await pool.start()
    finally:
        await pool.aclose()
    message = caught.value.user_message
    assert f"'http://***@127.0.0.1:{port}/rpc?***'" in message and "unreachable" in message
    assert "s3cret" not in message and "abc123" not in message and "operator" not in message
    assert "s3cret" not in repr(pool.health())


async def test_wrong_chain_id_is_rejected_and_marked_bad(anvil: AnvilNode) -> None:
    with AnvilNode(chain_id=999) as other:
        alone = RpcPool(network="devnet", urls=[other.rpc_url], clock=FakeClock(), chain_id=31337)
        with pytest.raises(ChainError, match=r"is on chain id 999, but network 'devnet' is chain id 31337"):
            await alone.start()
        await alone.aclose()

        mixed = RpcPool(
            network="devnet", urls=[other.rpc_url, anvil.rpc_url], clock=FakeClock(), chain_id=31337
        )
        await mixed.start()
        try:
            assert int(await mixed.call("eth_chainId"), 16) == 31337
            bad, good = mixed.health()
            assert bad.state == EndpointState.DOWN and bad.bad_reason is not None and "999" in bad.bad_reason
            assert good.state == EndpointState.HEALTHY
            await mixed.refresh_heads()
            assert mixed.health()[0].requests == 0, "a bad endpoint is never asked again"
        finally:
            await mixed.aclose()


async def test_endpoints_must_agree_on_the_chain_id_when_none_is_configured(anvil: AnvilNode) -> None:
    with AnvilNode(chain_id=5) as other:
        pool = RpcPool(network="devnet", urls=[anvil.rpc_url, other.rpc_url], clock=FakeClock())
        await pool.start()
        await pool.aclose()
    assert pool.chain_id == 31337
    assert pool.health()[1].bad_reason is not None and "chain id 5" in pool.health()[1].bad_reason


async def test_all_endpoints_failing_backs_off_then_raises(anvil: AnvilNode) -> None:
    clock = FakeClock()
    proxy = await TcpProxy(int(anvil.rpc_url.rsplit(":", 1)[1])).start()
    pool = RpcPool(network="devnet", urls=[proxy.url], clock=clock, chain_id=31337, max_rounds=3, timeout=0.3)
    try:
        await pool.start()
        proxy.hang = True
        with pytest.raises(
            ChainError, match=r"Every RPC endpoint of network 'devnet' failed eth_blockNumber.*timed out"
        ):
            await pool.call("eth_blockNumber")
        health = pool.health()[0]
        assert health.consecutive_errors == 3 and health.state == EndpointState.DOWN
        assert clock.monotonic() >= 0.1 + 0.2, "it waited (on the injected clock) between rounds"
        proxy.hang = False
        clock.advance(10)
        assert int(await pool.call("eth_blockNumber"), 16) == 0
        assert pool.health()[0].state == EndpointState.HEALTHY
    finally:
        await pool.aclose()
        await proxy.stop()


async def test_receipts_fall_back_to_per_tx_when_the_endpoint_lacks_get_block_receipts(
    anvil: AnvilNode, chain: Chain
) -> None:
    chain.fill(blocks=6, txs_per_block=3)
    front = await RpcFront(anvil.rpc_url, refuse=frozenset({"eth_getBlockReceipts"})).start()
    direct = RpcPool(network="devnet", urls=[anvil.rpc_url], clock=SystemClock())
    fallback = RpcPool(network="devnet", urls=[front.url], clock=SystemClock())
    try:
        await direct.start()
        await fallback.start()
        expected = await fetch_blocks(direct, first=1, last=chain.head())
        got = await fetch_blocks(fallback, first=1, last=chain.head())
        again = await fetch_blocks(fallback, first=1, last=2)
    finally:
        await direct.aclose()
        await fallback.aclose()
        await front.stop()
    assert got == expected and sum(len(b.txs) for b in got) == 1 + 18
    assert fallback.endpoints[0].block_receipts is False
    assert again == expected[:2]
    assert front.methods.count("eth_getBlockReceipts") == len(got), "refused once (one batch), then not asked"
    assert "eth_getTransactionReceipt" in front.methods


@pytest.mark.parametrize(
    ("mode", "message"), [("garbage", "answered non-JSON"), ("http500", "answered HTTP 500")]
)
async def test_garbage_answers_are_rpc_errors(anvil: AnvilNode, mode: str, message: str) -> None:
    front = await RpcFront(anvil.rpc_url, mode=mode).start()
    client = RpcClient(url=front.url)
    try:
        with pytest.raises(RpcError, match=f"'{front.url}' {message} on eth_blockNumber"):
            await client.call("eth_blockNumber")
        with pytest.raises(RpcError, match=message):
            await client.batch([("eth_blockNumber", []), ("eth_chainId", [])])
    finally:
        await client.aclose()
        await front.stop()


async def test_client_batch_and_errors(anvil: AnvilNode) -> None:
    client = RpcClient(url=anvil.rpc_url)
    try:
        chain_id, head = await client.batch([("eth_chainId", []), ("eth_blockNumber", [])])
        assert (chain_id, head) == ("0x7a69", "0x0")
        assert await client.batch([]) == []
        with pytest.raises(RpcMethodMissing, match="failed eth_noSuchMethod"):
            await client.batch([("eth_chainId", []), ("eth_noSuchMethod", [])])
        with pytest.raises(RpcError, match="failed eth_getBlockByNumber"):
            await client.call("eth_getBlockByNumber", ["not-a-number", False])
    finally:
        await client.aclose()


def test_a_pool_needs_endpoints() -> None:
    with pytest.raises(ConfigError, match="Network 'x' has no RPC endpoints"):
        RpcPool(network="x", urls=[], clock=FakeClock())


async def test_a_total_outage_delays_blocks_but_loses_none(
    anvil: AnvilNode, chain: Chain, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chain.mine_empty(120)
    head = chain.head()
    proxy = await TcpProxy(int(anvil.rpc_url.rsplit(":", 1)[1])).start()
    pool = RpcPool(network="devnet", urls=[proxy.url], clock=SystemClock(), timeout=1.0, max_rounds=2)
    outage = asyncio.Event()

    async def cut_at_40(batch: BlockBatch, session: AsyncSession) -> None:
        if batch.last >= 40 and not outage.is_set():
            outage.set()
            await proxy.stop()

    rec = Recorder(stop_at=head, extra=cut_at_40)
    try:
        await pool.start()
        follower = Follower(
            network="devnet",
            pool=pool,
            sessions=sessions,
            on_batch=rec.on_batch,
            clock=SystemClock(),
            start_block=1,
            batch_size=10,
            subscribe=False,
            poll_interval=0.02,
        )
        task = asyncio.create_task(follower.run(rec.stop))
        await asyncio.wait_for(outage.wait(), timeout=20)
        async with asyncio.timeout(20):
            while follower.counters["rpc_outages"] < 2:  # noqa: ASYNC110 - it keeps trying, never gives up
                await asyncio.sleep(0.02)
        assert not task.done()
        assert pool.health()[0].state == EndpointState.DOWN
        await proxy.start()  # same port again
        await asyncio.wait_for(task, timeout=30)
    finally:
        await pool.aclose()
        await proxy.stop()
    assert rec.numbers == list(range(1, head + 1))
    assert pool.health()[0].state == EndpointState.HEALTHY


async def test_an_endpoint_down_at_start_joins_once_it_answers(anvil: AnvilNode) -> None:
    late = await TcpProxy(int(anvil.rpc_url.rsplit(":", 1)[1])).start()
    await late.stop()  # keep its port, answer nothing yet
    pool = RpcPool(
        network="devnet",
        urls=[late.url, anvil.rpc_url],
        clock=SystemClock(),
        chain_id=31337,
        backoff_base=0.0,
    )
    try:
        await pool.start()
        down = pool.health()[0]
        assert not down.chain_verified and down.state == EndpointState.DEGRADED and down.errors == 1
        await late.start()
        await pool.refresh_heads()
        joined = pool.health()[0]
        assert joined.chain_verified and joined.state == EndpointState.HEALTHY and joined.last_head == 0
    finally:
        await pool.aclose()
        await late.stop()
