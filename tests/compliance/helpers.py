"""Blocks with PaymentToken/FoundationToken Transfer logs, built from the chain's value types (the shape the
follower hands the monitors), and a manifest naming the two tokens."""

from __future__ import annotations

from pathlib import Path

from fictra.chain.manifest import ContractEntry, Manifest
from fictra.chain.types import Block, BlockBatch, Log, Tx
from fictra.compliance.transfers import TRANSFER_TOPIC

FIXTURES = Path(__file__).parent / "fixtures"
PT = "0x" + "a1" * 20
FT = "0x" + "f7" * 20
LISTED = "0x098b716b8aaf21512996dc57eb0615e2383e2f96"  # LAZARUS TEST GROUP (both versions)
DELISTED = "0x7f367cc41522ce07553e823bf3be79a889debe1b"  # VINNIKOV (v1 only)


def manifest() -> Manifest:
    return Manifest(
        chain_id=31337,
        rpc_url="http://127.0.0.1:8545",
        contracts={
            "PaymentToken": ContractEntry(address=PT, artifact="PaymentToken"),
            "FoundationToken": ContractEntry(address=FT, artifact="FoundationToken"),
        },
    )


def _word(address: str) -> str:
    return "0x" + "00" * 12 + address[2:]


def block(number: int, transfers: list[tuple[str, str, int]], *, token: str = PT, ts: int = 0) -> Block:
    """Block ``number`` with one transaction per (from, to, value) transfer of ``token``."""
    bhash = "0x" + f"{number:064x}"
    txs = []
    for i, (sender, recipient, value) in enumerate(transfers):
        txh = "0x" + f"{number:032x}{i:032x}"
        log = Log(
            address=token,
            topics=(TRANSFER_TOPIC, _word(sender), _word(recipient)),
            data="0x" + f"{value:064x}",
            log_index=i,
            tx_hash=txh,
            tx_index=i,
            block_number=number,
            block_hash=bhash,
        )
        txs.append(
            Tx(
                hash=txh,
                index=i,
                sender=sender,
                to=token,
                value=0,
                input="0xa9059cbb",
                gas=60000,
                gas_price=1,
                max_fee_per_gas=None,
                max_priority_fee_per_gas=None,
                nonce=i,
                status=1,
                gas_used=50000,
                effective_gas_price=1,
                contract_address=None,
                logs=(log,),
            )
        )
    return Block(
        number=number,
        hash=bhash,
        parent_hash="0x" + f"{number - 1:064x}",
        timestamp=ts or 1_800_000_000 + number * 2,
        gas_used=0,
        gas_limit=30_000_000,
        base_fee_per_gas=1,
        miner="0x" + "00" * 20,
        txs=tuple(txs),
    )


def batch(*blocks: Block) -> BlockBatch:
    return BlockBatch(network="devnet", blocks=blocks, head=blocks[-1].number, at_head=True)
