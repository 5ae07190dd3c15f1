"""Chain follower catch-up throughput vs the raw batched JSON-RPC fetch of the same blocks.

On a fresh Anvil filled with transfers (``fictra.devnet.fill``), measures

* raw: fetching blocks (full txs) + ``eth_getBlockReceipts`` for every block in JSON-RPC batches of
  the same size, JSON parsed and nothing else, at its best pipelining depth from 1 up to the
  follower's ``prefetch``;
* follower: ``Follower`` catching up from block 1 to the head into a no-op consumer, with the
  checkpoint and hash buffer committed per batch in SQLite;

and reports blocks/s, txs/s and ``ratio`` = follower blocks/s / raw blocks/s (target >= 0.5). Each side
runs ``rounds`` times alternately and the best run counts (least disturbed by other load).

``python -m bench chain [--chain-transactions 20000] [--chain-txs-per-block 40] [--chain-empty-blocks 200]
[--chain-batch-size 25] [--chain-prefetch 3] [--chain-rounds 3]`` writes bench/results/chain.json
(``python -m bench.chain`` with the same options does too).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.chain.follower import Follower
from fictra.chain.pool import RpcPool
from fictra.chain.rpc import RpcClient
from fictra.chain.types import BlockBatch
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.devnet.anvil import AnvilNode, rpc_call
from fictra.devnet.fill import fill

DEFAULTS = {"transactions": 20_000, "txs_per_block": 40, "empty_blocks": 200, "batch_size": 25, "prefetch": 3}
OPTION_PREFIX = "chain_"  # options are --chain-<name>: other bench modules read --batch-size etc.


async def raw_fetch(url: str, *, head: int, batch_size: int, prefetch: int) -> tuple[float, int]:
    """Seconds to fetch blocks 1..head with receipts, batched and pipelined; and the tx count."""
    client = RpcClient(url=url, timeout=120)
    txs = 0
    started = time.perf_counter()
    try:
        ranges = deque((s, min(s + batch_size - 1, head)) for s in range(1, head + 1, batch_size))
        pending: deque[asyncio.Task[list[Any]]] = deque()
        while ranges or pending:
            while ranges and len(pending) < prefetch:
                first, last = ranges.popleft()
                numbers = range(first, last + 1)
                calls = [("eth_getBlockByNumber", [hex(n), True]) for n in numbers]
                calls += [("eth_getBlockReceipts", [hex(n)]) for n in numbers]
                pending.append(asyncio.create_task(client.batch(calls)))
            answers = await pending.popleft()
            txs += sum(len(a["transactions"]) for a in answers[: len(answers) // 2])
    finally:
        await client.aclose()
    return time.perf_counter() - started, txs


async def follower_catch_up(url: str, db_dir: Path, *, head: int, batch_size: int, prefetch: int) -> float:
    db_url = f"sqlite:///{db_dir / f'bench-{time.monotonic_ns()}.db'}"
    migrate(db_url)
    engine = make_engine(db_url)
    pool = RpcPool(network="bench", urls=[url], clock=SystemClock(), timeout=120)
    stop = asyncio.Event()

    async def on_batch(batch: BlockBatch, session: AsyncSession) -> None:
        if batch.last >= head:
            stop.set()

    try:
        await pool.start()
        follower = Follower(
            network="bench",
            pool=pool,
            sessions=session_factory(engine),
            on_batch=on_batch,
            clock=SystemClock(),
            start_block=1,
            batch_size=batch_size,
            prefetch=prefetch,
            subscribe=False,
        )
        started = time.perf_counter()
        await follower.run(stop)
        return time.perf_counter() - started
    finally:
        await pool.aclose()
        await engine.dispose()


async def run(args: argparse.Namespace | None = None) -> dict[str, Any]:
    opts = {k: int(getattr(args, OPTION_PREFIX + k, None) or v) for k, v in DEFAULTS.items()}
    rounds = int(getattr(args, OPTION_PREFIX + "rounds", None) or 3)
    with AnvilNode(gas_limit=100_000_000) as node, tempfile.TemporaryDirectory() as tmp:
        filled = await fill(
            rpc_url=node.rpc_url, transactions=opts["transactions"], batch_size=opts["txs_per_block"]
        )
        node_url = node.rpc_url
        rpc_call(node_url, "anvil_mine", [hex(opts["empty_blocks"])])
        head = int(str(rpc_call(node_url, "eth_blockNumber")), 16)
        raw_depth_s: dict[int, list[float]] = {}
        follow_s: list[float] = []
        txs = 0
        for round_no in range(rounds * 2):  # alternate which side runs first (warm caches, load)
            if (round_no // 2 + round_no) % 2 == 0:
                # raw gets its best pipelining depth up to the follower's (on a small machine fewer
                # requests in flight can be faster: the node and this process share the CPUs)
                for depth in range(1, opts["prefetch"] + 1):
                    seconds, txs = await raw_fetch(
                        node_url, head=head, batch_size=opts["batch_size"], prefetch=depth
                    )
                    raw_depth_s.setdefault(depth, []).append(seconds)
            else:
                follow_s.append(
                    await follower_catch_up(
                        node_url,
                        Path(tmp),
                        head=head,
                        batch_size=opts["batch_size"],
                        prefetch=opts["prefetch"],
                    )
                )
    best_depth = min(raw_depth_s, key=lambda d: min(raw_depth_s[d]))
    raw_s = raw_depth_s[best_depth]
    raw, follow = min(raw_s), min(follow_s)
    return {
        "name": "chain",
        "blocks": head,
        "txs": txs,
        "fill_tx_per_s": round(filled.tx_per_s, 1),
        "batch_size": opts["batch_size"],
        "prefetch": opts["prefetch"],
        "rounds": rounds,
        "raw_seconds": round(raw, 3),
        "raw_blocks_per_s": round(head / raw, 1),
        "raw_txs_per_s": round(txs / raw, 1),
        "follower_seconds": round(follow, 3),
        "follower_blocks_per_s": round(head / follow, 1),
        "follower_txs_per_s": round(txs / follow, 1),
        "raw_best_prefetch": best_depth,
        "raw_runs_s": {str(d): [round(x, 3) for x in runs] for d, runs in raw_depth_s.items()},
        "follower_runs_s": [round(x, 3) for x in follow_s],
        "ratio": round(raw / follow, 3),
        "target_ratio": 0.5,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    for key, value in [*DEFAULTS.items(), ("rounds", 3)]:
        parser.add_argument(f"--{(OPTION_PREFIX + key).replace('_', '-')}", type=int, default=value)
    result = asyncio.run(run(parser.parse_args()))
    out = Path(__file__).parent / "results" / "chain.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
