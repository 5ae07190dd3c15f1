"""Speculative state reads during catch-up.

Block monitors read the same state every batch (``paused()``, ``latestRoundData()``... at the batch's
last block). Made while the batch is processed, those reads queue at the node behind the block fetches
the follower pipelines ahead, and the batch waits for them. :class:`StatePrefetch` learns the reads
made inside the follower's batches (the calls with their block replaced by a placeholder) and, when the
follower has fetched the next batch, the pool sends the same reads for that batch's last block — pinned
by block *hash* (EIP-1898), so a reorg in between cannot mix states — while earlier batches are still
being processed. A read inside a batch is then answered from what was prefetched for exactly that block
(number and hash), or made as usual when anything is missing. The answers are the node's answers for
the same block: nothing the monitors see changes, only when it is fetched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import orjson

from fictra.chain.rpc import Call
from fictra.chain.statereads import STATE_METHODS

log = logging.getLogger(__name__)
KEEP_BLOCKS = 8  # prefetched blocks kept (the follower's prefetch depth is far below this)
FORGET_AFTER = 3  # a learnt read not asked for in this many batches is no longer prefetched


def _key(method: str, params: list[Any]) -> bytes:
    return orjson.dumps([method, params])


def _template(call: Call, tag: str) -> tuple[bytes, int] | None:
    """(key of ``call`` with its block tag replaced by a placeholder, index of the tag) when ``call`` is
    a state read at ``tag``; None otherwise."""
    method, params = call
    index = STATE_METHODS.get(method)
    if index is None or len(params) <= index or params[index] != tag:
        return None
    return _key(method, [*params[:index], None, *params[index + 1 :]]), index


class StatePrefetch:
    def __init__(self) -> None:
        self.templates: dict[bytes, tuple[str, list[Any], int]] = {}
        self.unused: dict[bytes, int] = {}  # template -> batches since it was last asked for
        self._learnt_at: int | None = None
        self.answers: dict[tuple[int, str], dict[bytes, Any]] = {}  # (block, hash) -> call key -> answer
        self.hits = 0
        self.misses = 0
        self.failures = 0  # prefetches failed in a row (a node without EIP-1898 block hashes...)
        self.off = False

    def learn(self, calls: Sequence[Call], block: int) -> None:
        """Remember the state reads of ``calls`` made at ``block``, to repeat them for later blocks."""
        if block != self._learnt_at:  # a new batch: age what the last one did not ask for
            self._learnt_at = block
            for key in list(self.unused):
                self.unused[key] += 1
                if self.unused[key] > FORGET_AFTER:
                    del self.unused[key], self.templates[key]
        tag = hex(block)
        for method, params in calls:
            found = _template((method, params), tag)
            if found is not None:
                self.templates.setdefault(found[0], (method, list(params), found[1]))
                self.unused[found[0]] = 0

    def calls_for(self, block: int, block_hash: str) -> tuple[list[Call], list[bytes]]:
        """The learnt reads for ``block``: the calls to send (pinned by ``block_hash``) and the keys
        under which a batch will ask for them (pinned by number)."""
        calls: list[Call] = []
        keys: list[bytes] = []
        for method, params, index in self.templates.values():
            calls.append((method, [*params[:index], {"blockHash": block_hash}, *params[index + 1 :]]))
            keys.append(_key(method, [*params[:index], hex(block), *params[index + 1 :]]))
        return calls, keys

    def failed(self, error: str) -> None:
        self.failures += 1
        if self.failures >= 3 and not self.off:
            self.off = True
            log.info("state prefetch off after %d failures in a row (last: %s)", self.failures, error[:160])

    def store(self, block: int, block_hash: str, keys: list[bytes], answers: list[Any]) -> None:
        self.failures = 0
        self.answers[(block, block_hash)] = dict(zip(keys, answers, strict=True))
        for old in sorted(self.answers)[:-KEEP_BLOCKS]:
            del self.answers[old]

    def take(self, calls: Sequence[Call], block: int, block_hash: str) -> list[Any] | None:
        """The prefetched answers of ``calls`` at ``block`` (this hash), or None when any is missing."""
        known = self.answers.get((block, block_hash))
        if known is None:
            self.misses += 1
            return None
        keys = [_key(method, list(params)) for method, params in calls]
        if any(k not in known for k in keys):
            self.misses += 1
            return None
        self.hits += 1
        return [known[k] for k in keys]

    def clear(self) -> None:
        self.answers.clear()
