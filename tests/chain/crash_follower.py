"""Child process of the crash test: follow ``rpc_url`` into ``db_url`` until block ``stop_at``.

The consumer writes one ``seen_block`` row per block in the follower's transaction, prints
``batch <first> <last>`` (before the commit) and dawdles a little inside the transaction. With
``hang_after`` N > 0 it stops inside the transaction of its N-th batch, so the parent's kill -9 is
certain to land mid-transaction; otherwise the kill lands wherever the child happens to be.
"""

from __future__ import annotations

import asyncio
import sys

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.chain.follower import Follower
from fictra.chain.pool import RpcPool
from fictra.chain.types import BlockBatch
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, session_factory


async def main(rpc_url: str, db_url: str, stop_at: int, hang_after: int) -> None:
    engine = make_engine(db_url)
    pool = RpcPool(network="devnet", urls=[rpc_url], clock=SystemClock(), chain_id=31337)
    stop = asyncio.Event()
    batches = 0

    async def on_batch(batch: BlockBatch, session: AsyncSession) -> None:
        await session.execute(
            text("INSERT INTO seen_block (network, number, hash) VALUES (:network, :number, :hash)"),
            [{"network": batch.network, "number": b.number, "hash": b.hash} for b in batch.blocks],
        )
        nonlocal batches
        batches += 1
        print(f"batch {batch.first} {batch.last}", flush=True)
        if batches == hang_after:
            await asyncio.Event().wait()  # inside the transaction, until killed
        await asyncio.sleep(0.005)
        if batch.last >= stop_at:
            stop.set()

    try:
        await pool.start()
        follower = Follower(
            network="devnet",
            pool=pool,
            sessions=session_factory(engine),
            on_batch=on_batch,
            clock=SystemClock(),
            start_block=1,
            batch_size=10,
            prefetch=3,
            subscribe=False,
        )
        await follower.run(stop)
    finally:
        await pool.aclose()
        await engine.dispose()
    print("done", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
