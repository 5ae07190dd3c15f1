"""kill -9 the follower (a real subprocess) during catch-up, restart it, and prove exactly-once."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from chainkit import Chain, create_seen_table, seen_numbers
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.chain.checkpoint import load_checkpoint
from fictra.db.engine import session_factory

CHILD = Path(__file__).with_name("crash_follower.py")


async def run_child(
    rpc_url: str, db_url: str, stop_at: int, *, kill_after: int | None, hang: bool = False
) -> list[str]:
    """Run the child; kill -9 it after ``kill_after`` printed batches (with ``hang``, while it sits
    inside that batch's transaction). Returns the lines it printed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        rpc_url,
        db_url,
        str(stop_at),
        str(kill_after if hang and kill_after else 0),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(60):
            while line := (await proc.stdout.readline()).decode().strip():
                lines.append(line)
                if kill_after is not None and len(lines) >= kill_after:
                    proc.send_signal(signal.SIGKILL)
                    break
            code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    stderr = (await proc.stderr.read()).decode() if proc.stderr else ""
    if kill_after is None:
        assert code == 0, stderr
        assert lines[-1] == "done"
    else:
        assert code == -signal.SIGKILL, stderr
    return lines


async def test_kill_9_during_catch_up_loses_and_repeats_nothing(
    chain: Chain, engine: AsyncEngine, database_url: str
) -> None:
    await create_seen_table(engine)
    chain.fill(blocks=30, txs_per_block=2)
    chain.mine_empty(270)
    head = chain.head()
    delivered: list[str] = []
    for kill_after, hang in ((3, True), (7, False), (2, True), (5, False)):
        delivered += await run_child(chain.url, database_url, head, kill_after=kill_after, hang=hang)
    delivered += await run_child(chain.url, database_url, head, kill_after=None)

    assert await seen_numbers(engine) == list(range(1, head + 1)), "no gap, no duplicate"
    async with session_factory(engine)() as session:
        checkpoint = await load_checkpoint(session, network="devnet")
    assert checkpoint is not None and checkpoint.number == head
    # the kills inside a transaction really interrupted work: those batches were delivered again
    firsts = [int(line.split()[1]) for line in delivered if line.startswith("batch")]
    assert len(firsts) - len(set(firsts)) >= 2, "the two batches killed mid-transaction were redelivered"
