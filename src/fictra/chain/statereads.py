"""State reads at a block on nodes that may not keep that block's state.

A monitor reads contract state (``eth_call``, ``eth_getStorageAt``, ``eth_getCode``...) at the block it
judges. A non-archive node keeps only a window of recent states (geth 128 blocks, Anvil a few thousand
or ``--prune-history N``) and answers older reads with "block out of range" / "missing trie node": a
long catch-up would then fail forever. The pool's policy (:meth:`fictra.chain.pool.RpcPool.read_state`):
ask every endpoint for the block's state; when none keeps it, read the same calls at the head instead,
record the gap in :class:`StateGaps`, and return a :class:`StateReads` whose :attr:`~StateReads.note`
marks findings made from it as "read at head". A block the nodes have not got yet is not a gap: that
stays an error (an endpoint behind), retried like any outage.

While the follower hands a batch to its consumer it sets :data:`IN_BATCH`: then every state read through
the pool (``batch``/``call``, whoever makes it — a monitor of any domain) follows the same policy, so no
consumer can wedge the follower. Outside a batch (an evidence job, a dry run) a missing state stays an
error: nothing reads the head while believing it read the block.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from fictra.chain.rpc import Call

# inside the follower's batch: the batch's block hashes by number (None outside a batch)
IN_BATCH: ContextVar[dict[int, str] | None] = ContextVar("fictra_state_reads_in_batch", default=None)

# method -> index of its block parameter
STATE_METHODS = {
    "eth_call": 1,
    "eth_getBalance": 1,
    "eth_getCode": 1,
    "eth_getTransactionCount": 1,
    "eth_getStorageAt": 2,
    "eth_getProof": 2,
}


def block_of(calls: Sequence[Call]) -> int | None:
    """The highest explicit block number the state calls of ``calls`` ask for (None: no such call)."""
    found: int | None = None
    for method, params in calls:
        index = STATE_METHODS.get(method)
        if index is None or len(params) <= index:
            continue
        tag = params[index]
        if isinstance(tag, str) and tag.startswith("0x"):
            number = int(tag, 16)
            found = number if found is None else max(found, number)
    return found


def at_latest(calls: Sequence[Call]) -> list[Call]:
    """``calls`` with every explicit block number of a state call replaced by "latest"."""
    out: list[Call] = []
    for method, params in calls:
        index = STATE_METHODS.get(method)
        if index is not None and len(params) > index and isinstance(params[index], str):
            params = [*params[:index], "latest", *params[index + 1 :]]
        out.append((method, params))
    return out


@dataclass
class StateGaps:
    """Reads that fell back to the head because no endpoint kept the block's state."""

    fallbacks: int = 0  # batches read at the head instead of their block
    first_block: int | None = None  # lowest block whose state was missing
    last_block: int | None = None  # highest block whose state was missing
    floor: int = -1  # blocks at or below this are known to be gone: no point asking again
    last_error: str | None = None

    def record(self, block: int, error: str) -> None:
        self.fallbacks += 1
        self.first_block = block if self.first_block is None else min(self.first_block, block)
        self.last_block = block if self.last_block is None else max(self.last_block, block)
        self.floor = max(self.floor, block)
        self.last_error = error

    def as_dict(self) -> dict[str, object]:
        return {
            "fallbacks": self.fallbacks,
            "first_block": self.first_block,
            "last_block": self.last_block,
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class StateReads:
    """Answers of a state batch (a :class:`~fictra.chain.rpc.CallReverted` in place of a reverted call).
    ``read_at_head`` is the head the answers describe when the block's state was unavailable."""

    answers: list[Any]
    block: int | None
    read_at_head: int | None = None
    error: str | None = None
    note: dict[str, object] = field(default_factory=dict)

    def mark(self, evidences: Iterable[MutableMapping[str, object]]) -> None:
        """Add the "read at head" note to the evidence of findings made from these answers."""
        if self.note:
            for evidence in evidences:
                evidence.update(self.note)


def fallback_note(block: int, head: int, error: str) -> dict[str, object]:
    return {
        "state_read_at": "head",
        "state_block": block,
        "state_head": head,
        "state_note": f"the node keeps no state for block {block}; read at the head ({head}) instead",
        "state_error": error[:160],
    }
