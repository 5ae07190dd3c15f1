"""Speculative state reads: learnt from one batch, sent for the next batch's block (pinned by hash),
served only to a read of exactly that block; the answers are the node's answers for that block."""

from __future__ import annotations

import asyncio

from chainkit import Chain, Recorder
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.chain import stateprefetch
from fictra.chain.follower import Follower
from fictra.chain.pool import RpcPool
from fictra.chain.rpc import RpcClient
from fictra.chain.stateprefetch import StatePrefetch
from fictra.chain.types import BlockBatch
from fictra.clock import SystemClock
from fictra.devnet.accounts import account
from fictra.devnet.anvil import AnvilNode

DEV0 = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
SENDER = account(31).address  # one of chainkit.fill's senders: its balance changes block by block


def test_learnt_reads_are_repeated_for_later_blocks_and_served_by_number_and_hash() -> None:
    prefetch = StatePrefetch()
    calls = [("eth_getBalance", [DEV0, hex(10)]), ("eth_blockNumber", [])]
    prefetch.learn(calls, 10)
    sent, keys = prefetch.calls_for(12, "0xabc")
    assert sent == [("eth_getBalance", [DEV0, {"blockHash": "0xabc"}])]
    prefetch.store(12, "0xabc", keys, ["0x5"])
    asked = [("eth_getBalance", [DEV0, hex(12)])]
    assert prefetch.take(asked, 12, "0xabc") == ["0x5"]
    assert prefetch.take(asked, 12, "0xdef") is None, "another block 12 (a reorg): not served"
    assert prefetch.take([*asked, ("eth_getCode", [DEV0, hex(12)])], 12, "0xabc") is None
    for block in range(13, 13 + stateprefetch.FORGET_AFTER + 1):  # batches that ask for nothing
        prefetch.learn([], block)
    assert prefetch.calls_for(20, "0x1") == ([], []), "a read nobody asks for any more is dropped"
    for _ in range(3):
        prefetch.failed("invalid params: blockHash")
    assert prefetch.off, "a node that refuses pinned reads three times is no longer asked"


async def test_catch_up_reads_state_from_the_prefetch_with_the_nodes_answers(
    anvil: AnvilNode, chain: Chain, sessions: async_sessionmaker[AsyncSession]
) -> None:
    chain.fill(blocks=24, txs_per_block=4)
    chain.mine_empty(4)
    head = chain.head()
    pool = RpcPool(network="devnet", urls=[anvil.rpc_url], clock=SystemClock(), chain_id=31337)
    seen: dict[int, str] = {}

    async def read(batch: BlockBatch, session: AsyncSession) -> None:
        reads = await pool.read_state([("eth_getBalance", [SENDER, hex(batch.last)])])
        seen[batch.last] = reads.answers[0]

    rec = Recorder(stop_at=head, extra=read)
    try:
        await pool.start()
        follower = Follower(
            network="devnet",
            pool=pool,
            sessions=sessions,
            on_batch=rec.on_batch,
            clock=SystemClock(),
            start_block=1,
            batch_size=4,
            subscribe=False,
        )
        await asyncio.wait_for(follower.run(rec.stop), timeout=60)
    finally:
        await pool.aclose()
    client = RpcClient(url=anvil.rpc_url)
    try:
        truth = {n: await client.call("eth_getBalance", [SENDER, hex(n)]) for n in seen}
    finally:
        await client.aclose()
    assert seen == truth
    assert len(set(seen.values())) > 1, "the balance changed: a stale answer would show"
    # the first batches were fetched before anything was learnt (prefetch depth 3); the rest were served
    assert pool.state_prefetch.hits >= len(seen) - 4, (pool.state_prefetch.hits, len(seen))
