"""Read FoundationToken's view of every registry sovereign in one JSON-RPC batch."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode as abi_encode

from fictra.chain.pool import RpcPool
from fictra.chain.rpc import Call
from fictra.monitors.common import decode_word, selector
from fictra.tokens.config import Sovereign
from fictra.tokens.registry import ChainAllocation

__all__ = ["read_allocations", "read_supply"]

ALLOCATION = selector("allocation(bytes32)")
BALANCE_OF = selector("balanceOf(address)")
GET_VOTES = selector("getVotes(address)")
DELEGATES = selector("delegates(address)")
TOTAL_SUPPLY = selector("totalSupply()")


def _call(to: str, data: str, tag: str) -> Call:
    return ("eth_call", [{"to": to, "data": data}, tag])


async def read_allocations(
    pool: RpcPool, *, token: str, sovereigns: list[Sovereign], tag: str = "latest"
) -> dict[str, ChainAllocation]:
    calls: list[Call] = []
    for s in sovereigns:
        who = abi_encode(["address"], [s.address]).hex()
        calls += [
            _call(token, ALLOCATION + abi_encode(["bytes32"], [s.onchain_id]).hex(), tag),
            _call(token, BALANCE_OF + who, tag),
            _call(token, GET_VOTES + who, tag),
            _call(token, DELEGATES + who, tag),
        ]
    answers: list[Any] = await pool.batch(calls) if calls else []
    out: dict[str, ChainAllocation] = {}
    for i, s in enumerate(sovereigns):
        holder, cap, issued = decode_word(answers[4 * i], "(address,uint256,uint256)", what="allocation")
        out[s.id] = ChainAllocation(
            sovereign_id=s.id,
            holder=str(holder),
            cap=int(cap),
            issued=int(issued),
            balance=int(decode_word(answers[4 * i + 1], "uint256", what="balanceOf")),
            votes=int(decode_word(answers[4 * i + 2], "uint256", what="getVotes")),
            delegate=str(decode_word(answers[4 * i + 3], "address", what="delegates")),
        )
    return out


async def read_supply(pool: RpcPool, *, token: str, tag: str = "latest") -> int:
    raw = await pool.call("eth_call", [{"to": token, "data": TOTAL_SUPPLY}, tag])
    return int(decode_word(raw, "uint256", what="FoundationToken.totalSupply"))
