"""Fetching blocks with their transactions, receipts and logs through an :class:`RpcPool`.

One JSON-RPC batch carries ``eth_getBlockByNumber(n, true)`` and ``eth_getBlockReceipts(n)`` for a
whole range. Endpoints without ``eth_getBlockReceipts`` fall back (remembered per endpoint) to a second
batch of ``eth_getTransactionReceipt`` per transaction.
"""

from __future__ import annotations

from typing import Any

from fictra.chain.convert import convert_block
from fictra.chain.pool import Endpoint, RpcPool
from fictra.chain.rpc import Call, RpcMethodMissing
from fictra.chain.types import Block
from fictra.errors import RpcError


def _missing(ep: Endpoint, number: int) -> RpcError:
    return RpcError(f"RPC endpoint '{ep.health.url}' has no block {number} yet.")


async def _fetch_on(ep: Endpoint, first: int, last: int) -> list[Block]:
    numbers = range(first, last + 1)
    block_calls: list[Call] = [("eth_getBlockByNumber", [hex(n), True]) for n in numbers]
    if ep.block_receipts:
        try:
            answers = await ep.client.batch(
                block_calls + [("eth_getBlockReceipts", [hex(n)]) for n in numbers]
            )
        except RpcMethodMissing:
            ep.block_receipts = False
        else:
            raws, receipts = answers[: len(numbers)], answers[len(numbers) :]
            for n, raw, rec in zip(numbers, raws, receipts, strict=True):
                if raw is None or rec is None:
                    raise _missing(ep, n)
            return [convert_block(raw, rec) for raw, rec in zip(raws, receipts, strict=True)]
    raws = await ep.client.batch(block_calls)
    for n, raw in zip(numbers, raws, strict=True):
        if raw is None:
            raise _missing(ep, n)
    tx_hashes = [tx["hash"] for raw in raws for tx in raw["transactions"]]
    flat: list[Any] = await ep.client.batch([("eth_getTransactionReceipt", [h]) for h in tx_hashes])
    blocks, offset = [], 0
    for raw in raws:
        count = len(raw["transactions"])
        receipts = flat[offset : offset + count]
        offset += count
        if any(r is None for r in receipts):
            raise RpcError(f"RPC endpoint '{ep.health.url}' lost receipts of block {int(raw['number'], 16)}.")
        blocks.append(convert_block(raw, receipts))
    return blocks


async def _fetch_checked(ep: Endpoint, first: int, last: int) -> list[Block]:
    try:
        return await _fetch_on(ep, first, last)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RpcError(
            f"RPC endpoint '{ep.health.url}' answered a malformed block or receipt in blocks "
            f"{first}..{last} ({type(exc).__name__}: {str(exc)[:80]})."
        ) from None


async def fetch_blocks(pool: RpcPool, *, first: int, last: int) -> list[Block]:
    """Blocks ``first..last`` with txs, receipts and logs, consistent within each block."""
    return await pool.run(lambda ep: _fetch_checked(ep, first, last), what=f"fetching blocks {first}..{last}")


async def fetch_hashes(pool: RpcPool, numbers: list[int]) -> dict[int, str | None]:
    """Canonical hashes of ``numbers`` (None where the endpoint has no such block)."""
    answers = await pool.batch([("eth_getBlockByNumber", [hex(n), False]) for n in numbers])
    try:
        return {n: (raw["hash"].lower() if raw else None) for n, raw in zip(numbers, answers, strict=True)}
    except (KeyError, TypeError, AttributeError):
        raise RpcError(f"Network '{pool.network}' answered a malformed block header.") from None
