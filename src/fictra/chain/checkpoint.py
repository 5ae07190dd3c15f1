"""The follower's durable position: a checkpoint per network plus the hashes of recent blocks.

Every function takes the caller's session and never commits: the follower runs them in the same
transaction as the consumer's writes, so a batch's effects and the checkpoint commit together.
Advancing and rewinding are compare-and-set on the previous checkpoint, so two followers of one
network can never both advance it (the loser gets a ConflictError and its transaction rolls back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.chain.models import ChainBlockHash, ChainCheckpoint, ChainReorg
from fictra.chain.types import Block, Reorg
from fictra.errors import ConflictError


@dataclass(frozen=True, slots=True)
class Checkpoint:
    network: str
    number: int
    hash: str


async def load_checkpoint(session: AsyncSession, *, network: str) -> Checkpoint | None:
    row = await session.get(ChainCheckpoint, network)
    return None if row is None else Checkpoint(network, row.block_number, row.block_hash)


async def load_hashes(session: AsyncSession, *, network: str) -> dict[int, str]:
    """number -> hash of the recent processed blocks, oldest first."""
    rows = await session.execute(
        select(ChainBlockHash.number, ChainBlockHash.hash)
        .where(ChainBlockHash.network == network)
        .order_by(ChainBlockHash.number)
    )
    return {number: block_hash for number, block_hash in rows}


def _conflict(network: str, previous: Checkpoint | None) -> ConflictError:
    at = "no checkpoint" if previous is None else f"block {previous.number} ({previous.hash})"
    return ConflictError(
        f"The checkpoint of network '{network}' is no longer at {at}: another follower of the same "
        "network is running. Run one follower per network."
    )


async def _move(
    session: AsyncSession, *, network: str, previous: Checkpoint | None, to: Checkpoint, now: datetime
) -> None:
    if previous is None:
        if await session.get(ChainCheckpoint, network) is not None:
            raise _conflict(network, previous)
        session.add(
            ChainCheckpoint(network=network, block_number=to.number, block_hash=to.hash, updated_at=now)
        )
        await session.flush()
        return
    result = await session.execute(
        update(ChainCheckpoint)
        .where(
            ChainCheckpoint.network == network,
            ChainCheckpoint.block_number == previous.number,
            ChainCheckpoint.block_hash == previous.hash,
        )
        .values(block_number=to.number, block_hash=to.hash, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise _conflict(network, previous)


async def advance(
    session: AsyncSession,
    *,
    network: str,
    previous: Checkpoint | None,
    blocks: Sequence[Block],
    keep: int,
    now: datetime,
) -> Checkpoint:
    """Record ``blocks`` as processed: move the checkpoint to the last one, remember their hashes and
    forget hashes older than ``keep`` blocks."""
    last = blocks[-1]
    to = Checkpoint(network, last.number, last.hash)
    await _move(session, network=network, previous=previous, to=to, now=now)
    await session.execute(
        insert(ChainBlockHash),
        [
            {"network": network, "number": b.number, "hash": b.hash, "parent_hash": b.parent_hash}
            for b in blocks
        ],
    )
    await session.execute(
        delete(ChainBlockHash).where(
            ChainBlockHash.network == network, ChainBlockHash.number <= last.number - keep
        )
    )
    return to


async def rewind(
    session: AsyncSession, *, previous: Checkpoint, ancestor: Checkpoint, reorg: Reorg, now: datetime
) -> None:
    """Move the checkpoint back to the common ancestor, forget the replaced hashes, record the reorg."""
    network = previous.network
    await _move(session, network=network, previous=previous, to=ancestor, now=now)
    await session.execute(
        delete(ChainBlockHash).where(
            ChainBlockHash.network == network, ChainBlockHash.number > ancestor.number
        )
    )
    session.add(
        ChainReorg(
            network=network,
            depth=reorg.depth,
            common_ancestor=reorg.common_ancestor,
            old_hashes=list(reorg.old_hashes),
            new_hashes=list(reorg.new_hashes),
            detected_at_block=reorg.detected_at_block,
            detected_at=now,
        )
    )
    await session.flush()
