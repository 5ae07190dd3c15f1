"""Raw JSON-RPC block/receipt objects -> the frozen values of :mod:`fictra.chain.types`.

Hot path of catch-up: plain dict lookups and ``int(x, 16)``, no web3.py formatters. Hashes and
addresses are lower-cased so every consumer compares strings safely.
"""

from __future__ import annotations

from typing import Any

from fictra.chain.types import Block, Log, Tx
from fictra.errors import RpcError


def _int(value: str | None) -> int:
    return int(value, 16) if value else 0


def _opt_int(value: str | None) -> int | None:
    return int(value, 16) if value is not None else None


def _addr(value: str | None) -> str | None:
    return value.lower() if value else None


def _logs(raw: list[dict[str, Any]]) -> tuple[Log, ...]:
    return tuple(
        Log(
            address=log["address"].lower(),
            topics=tuple(t.lower() for t in log["topics"]),
            data=log["data"],
            log_index=int(log["logIndex"], 16),
            tx_hash=log["transactionHash"].lower(),
            tx_index=int(log["transactionIndex"], 16),
            block_number=int(log["blockNumber"], 16),
            block_hash=log["blockHash"].lower(),
        )
        for log in raw
    )


def convert_block(raw: dict[str, Any], receipts: list[dict[str, Any]]) -> Block:
    """Build a :class:`Block` from ``eth_getBlockByNumber(n, true)`` and its receipts (any order).

    Raises RpcError when the receipts do not belong to the block (a reorg between the two calls)."""
    block_hash = raw["hash"].lower()
    by_hash = {r["transactionHash"].lower(): r for r in receipts}
    txs_raw: list[dict[str, Any]] = raw["transactions"]
    if len(by_hash) != len(txs_raw):
        raise RpcError(
            f"Block {int(raw['number'], 16)} has {len(txs_raw)} transactions but {len(by_hash)} receipts."
        )
    txs = []
    for tx in txs_raw:
        tx_hash = tx["hash"].lower()
        receipt = by_hash.get(tx_hash)
        if receipt is None or receipt["blockHash"].lower() != block_hash:
            raise RpcError(f"Receipt of tx {tx_hash} does not belong to block {block_hash}.")
        gas_price = tx.get("gasPrice")
        txs.append(
            Tx(
                hash=tx_hash,
                index=int(tx["transactionIndex"], 16),
                sender=tx["from"].lower(),
                to=_addr(tx.get("to")),
                value=int(tx["value"], 16),
                input=tx.get("input") or tx.get("data") or "0x",
                gas=int(tx["gas"], 16),
                gas_price=int(gas_price, 16) if gas_price else int(receipt["effectiveGasPrice"], 16),
                max_fee_per_gas=_opt_int(tx.get("maxFeePerGas")),
                max_priority_fee_per_gas=_opt_int(tx.get("maxPriorityFeePerGas")),
                nonce=int(tx["nonce"], 16),
                status=_int(receipt.get("status")),
                gas_used=int(receipt["gasUsed"], 16),
                effective_gas_price=_int(receipt.get("effectiveGasPrice")),
                contract_address=_addr(receipt.get("contractAddress")),
                logs=_logs(receipt["logs"]),
            )
        )
    return Block(
        number=int(raw["number"], 16),
        hash=block_hash,
        parent_hash=raw["parentHash"].lower(),
        timestamp=int(raw["timestamp"], 16),
        gas_used=int(raw["gasUsed"], 16),
        gas_limit=int(raw["gasLimit"], 16),
        base_fee_per_gas=_opt_int(raw.get("baseFeePerGas")),
        miner=(raw.get("miner") or "0x" + "0" * 40).lower(),
        txs=tuple(txs),
    )
