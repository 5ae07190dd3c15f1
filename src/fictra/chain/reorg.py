"""Finding the common ancestor of our processed chain and the node's canonical chain."""

from __future__ import annotations

from fictra.chain.fetch import fetch_hashes
from fictra.chain.pool import RpcPool
from fictra.chain.types import Reorg
from fictra.errors import ChainError

WALK_STEP = 16


async def find_reorg(
    pool: RpcPool, *, network: str, hashes: dict[int, str], tip: int, detected_at: int
) -> Reorg | None:
    """Walk back from ``tip`` through ``hashes`` (number -> hash we processed), fetching canonical
    hashes ``WALK_STEP`` at a time, to the highest block both chains share. None when ``tip`` itself is
    still canonical (endpoints disagreeing for a moment, not a reorg)."""
    canonical: dict[int, str | None] = {}
    number = tip
    oldest = min(hashes, default=tip + 1)
    while number >= oldest:
        chunk = [n for n in range(number, max(number - WALK_STEP, oldest - 1), -1)]
        canonical.update(await fetch_hashes(pool, chunk))
        for n in chunk:
            if canonical[n] is not None and canonical[n] == hashes.get(n):
                if n == tip:
                    return None
                replaced = range(n + 1, tip + 1)
                return Reorg(
                    network=network,
                    common_ancestor=n,
                    depth=len(replaced),
                    old_hashes=tuple(hashes[i] for i in replaced),
                    new_hashes=tuple(h for i in replaced if (h := canonical[i]) is not None),
                    detected_at_block=detected_at,
                )
        number = chunk[-1] - 1
    raise ChainError(
        f"Network '{network}' reorganised deeper than the {len(hashes)} recent block hashes kept "
        f"(blocks {oldest}..{tip} all replaced). The follower stopped rather than skip blocks: raise "
        "keep_hashes, then reset the checkpoint to a block before the reorg and restart."
    )
