"""Synthetic chain values (logs, txs, blocks) encoded with eth_abi, for the rules bench and tests."""

from __future__ import annotations

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from fictra.chain.types import Block, BlockBatch, Log, Tx

PT = "0x" + "11" * 20
RESERVE = "0x" + "22" * 20
FT = "0x" + "33" * 20


def topic(signature: str) -> str:
    return "0x" + keccak(text=signature).hex()


def word(abi_type: str, value: object) -> str:
    return "0x" + encode([abi_type], [value]).hex()


def event_log(
    address: str,
    signature: str,
    indexed: list[tuple[str, object]],
    data: list[tuple[str, object]],
    *,
    index: int = 0,
) -> Log:
    return Log(
        address=address,
        topics=(topic(signature), *(word(t, v) for t, v in indexed)),
        data="0x" + encode([t for t, _ in data], [v for _, v in data]).hex(),
        log_index=index,
        tx_hash="0x" + f"{index:064x}",
        tx_index=0,
        block_number=0,
        block_hash="0x" + "00" * 32,
    )


def transfer(address: str, sender: str, to: str, value: int, *, index: int = 0) -> Log:
    return event_log(
        address,
        "Transfer(address,address,uint256)",
        [("address", sender), ("address", to)],
        [("uint256", value)],
        index=index,
    )


def tx(
    *,
    logs: tuple[Log, ...] = (),
    to: str | None = PT,
    data: str = "0x",
    status: int = 1,
    n: int = 0,
    sender: str = "0x" + "aa" * 20,
) -> Tx:
    return Tx(
        hash="0x" + f"{n:064x}",
        index=n,
        sender=sender,
        to=to,
        value=0,
        input=data,
        gas=100_000,
        gas_price=1,
        max_fee_per_gas=None,
        max_priority_fee_per_gas=None,
        nonce=n,
        status=status,
        gas_used=50_000,
        effective_gas_price=1,
        contract_address=None,
        logs=logs,
    )


def block(number: int, txs: tuple[Tx, ...]) -> Block:
    return Block(
        number=number,
        hash="0x" + f"{number:064x}",
        parent_hash="0x" + f"{number - 1:064x}",
        timestamp=1_700_000_000 + number,
        gas_used=1,
        gas_limit=30_000_000,
        base_fee_per_gas=1,
        miner="0x" + "00" * 20,
        txs=txs,
    )


def batch(*blocks: Block, network: str = "devnet") -> BlockBatch:
    return BlockBatch(network=network, blocks=blocks, head=blocks[-1].number, at_head=True)
