"""PT/FT transfers out of a block batch: the ERC-20 ``Transfer`` logs of the screened tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from eth_utils.crypto import keccak

from fictra.chain.types import Block

__all__ = ["TRANSFER_TOPIC", "Transfer", "transfers_of"]

TRANSFER_TOPIC = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
ZERO = "0x" + "00" * 20


@dataclass(frozen=True, slots=True)
class Transfer:
    token: str  # manifest name (PaymentToken, FoundationToken)
    sender: str
    recipient: str
    value: int
    tx_hash: str
    block: int
    block_hash: str
    timestamp: int
    log_index: int = 0


def transfers_of(block: Block, tokens: dict[str, str]) -> Iterator[Transfer]:
    """Successful transfers of ``tokens`` (address → name) in ``block``, mints and burns included."""
    for tx in block.txs:
        if tx.status != 1:
            continue
        for log in tx.logs:
            name = tokens.get(log.address)
            if name is None or len(log.topics) != 3 or log.topics[0] != TRANSFER_TOPIC:
                continue
            yield Transfer(
                token=name,
                sender="0x" + log.topics[1][-40:],
                recipient="0x" + log.topics[2][-40:],
                value=int(log.data, 16) if len(log.data) > 2 else 0,
                tx_hash=tx.hash,
                block=block.number,
                block_hash=block.hash,
                timestamp=block.timestamp,
                log_index=log.log_index,
            )
