"""Plain values that flow from the chain follower to the monitors.

The follower produces :class:`BlockBatch` values (one or more consecutive blocks on the canonical
chain, each with its transactions, receipts and logs) and :class:`Reorg` values; monitors consume
them. Integers are Python ints, hashes and addresses are lower-case 0x-hex strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Log:
    address: str
    topics: tuple[str, ...]
    data: str
    log_index: int
    tx_hash: str
    tx_index: int
    block_number: int
    block_hash: str


@dataclass(frozen=True, slots=True)
class Tx:
    hash: str
    index: int
    sender: str
    to: str | None
    value: int
    input: str
    gas: int
    gas_price: int
    max_fee_per_gas: int | None
    max_priority_fee_per_gas: int | None
    nonce: int
    # from the receipt
    status: int  # 1 success, 0 reverted
    gas_used: int
    effective_gas_price: int
    contract_address: str | None
    logs: tuple[Log, ...]

    @property
    def selector(self) -> str | None:
        return self.input[:10] if len(self.input) >= 10 else None


@dataclass(frozen=True, slots=True)
class Block:
    number: int
    hash: str
    parent_hash: str
    timestamp: int
    gas_used: int
    gas_limit: int
    base_fee_per_gas: int | None
    miner: str
    txs: tuple[Tx, ...]

    @property
    def logs(self) -> tuple[Log, ...]:
        return tuple(log for tx in self.txs for log in tx.logs)


@dataclass(frozen=True, slots=True)
class BlockBatch:
    """Consecutive canonical blocks. ``head`` is the chain head seen when the batch was fetched, so
    ``head - block.number`` is that block's depth (confirmations - 1); ``at_head`` is True when the
    follower is live rather than catching up. ``received_at`` is the monotonic time the last block
    arrived (block-to-alert latency is measured from it)."""

    network: str
    blocks: tuple[Block, ...]
    head: int
    at_head: bool
    received_at: float = 0.0

    @property
    def first(self) -> int:
        return self.blocks[0].number

    @property
    def last(self) -> int:
        return self.blocks[-1].number


@dataclass(frozen=True, slots=True)
class Reorg:
    """The canonical chain replaced blocks ``common_ancestor + 1 ..`` (``depth`` of them)."""

    network: str
    common_ancestor: int
    depth: int
    old_hashes: tuple[str, ...]
    new_hashes: tuple[str, ...] = field(default_factory=tuple)
    detected_at_block: int = 0
