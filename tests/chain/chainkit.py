"""Helpers for the chain tests: chain activity from the deterministic dev accounts (signed ETH
transfers and calls to a tiny log-emitting contract) and consumers that record what they receive."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from eth_account import Account
from eth_utils import to_checksum_address
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from fictra.chain.types import BlockBatch, Reorg
from fictra.devnet.accounts import DevAccount, account

# Runtime: LOG1(topic=CALLER, data=empty); STOP. Init code copies the 7 runtime bytes and returns them.
EMITTER_INIT = "0x6007600c60003960076000f3" + "3360006000a100"


class Chain:
    """Synchronous driver of one Anvil node (batched JSON-RPC over httpx)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=30)
        self.nonces: dict[str, int] = {}
        self.emitter: str | None = None

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, *params: Any) -> Any:
        answer = self.http.post(
            self.url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        )
        payload = answer.json()
        if "error" in payload:
            raise RuntimeError(f"{method}: {payload['error']}")
        return payload["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        if not calls:
            return []
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        answers = sorted(self.http.post(self.url, json=body).json(), key=lambda a: a["id"])
        for a in answers:
            if "error" in a:
                raise RuntimeError(str(a["error"]))
        return [a["result"] for a in answers]

    def head(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def _nonce(self, sender: DevAccount) -> int:
        if sender.address not in self.nonces:
            self.nonces[sender.address] = int(
                self.call("eth_getTransactionCount", sender.address, "pending"), 16
            )
        nonce = self.nonces[sender.address]
        self.nonces[sender.address] = nonce + 1
        return nonce

    def signed(self, sender: DevAccount, *, to: str | None, value: int = 0, data: str = "0x") -> str:
        tx: dict[str, Any] = {
            "chainId": 31337,
            "nonce": self._nonce(sender),
            "gas": 100_000 if to is not None else 200_000,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 10**9,
            "value": value,
            "data": data,
        }
        if to is not None:
            tx["to"] = to_checksum_address(to)
        return "0x" + Account.sign_transaction(tx, sender.private_key).raw_transaction.hex()

    def deploy_emitter(self) -> str:
        raw = self.signed(account(31), to=None, data=EMITTER_INIT)
        tx_hash = self.call("eth_sendRawTransaction", raw)
        self.call("evm_mine")
        receipt = self.call("eth_getTransactionReceipt", tx_hash)
        self.emitter = receipt["contractAddress"]
        return str(self.emitter)

    def fill(self, *, blocks: int, txs_per_block: int) -> None:
        """Mine ``blocks`` blocks, each with ``txs_per_block`` txs (transfers and emitter calls)."""
        if self.emitter is None:
            self.deploy_emitter()
        senders = [account(i) for i in (31, 32, 33, 34)]
        self.call("evm_setAutomine", False)
        try:
            for b in range(blocks):
                raws = []
                for t in range(txs_per_block):
                    sender = senders[(b + t) % len(senders)]
                    if t % 2:
                        raws.append(self.signed(sender, to=self.emitter, data="0x01"))
                    else:
                        raws.append(self.signed(sender, to=account(18 + t % 10).address, value=10**15 + b))
                self.batch([("eth_sendRawTransaction", [r]) for r in raws])
                self.call("evm_mine")
        finally:
            self.call("evm_setAutomine", True)

    def mine_empty(self, count: int) -> None:
        self.call("anvil_mine", hex(count))


@dataclass
class Recorder:
    """A consumer recording every batch and reorg; ``stop_at`` sets ``stop`` once that block is seen."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    stop_at: int | None = None
    batches: list[BlockBatch] = field(default_factory=list)
    reorgs: list[Reorg] = field(default_factory=list)
    fail_at: int | None = None
    fail_reorg: bool = False
    extra: Callable[[BlockBatch, AsyncSession], Awaitable[None]] | None = None
    progress: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_past(self, number: int) -> None:
        """Return once a block after ``number`` was delivered."""
        while not self.numbers or self.numbers[-1] <= number:
            self.progress.clear()
            await self.progress.wait()

    @property
    def numbers(self) -> list[int]:
        return [b.number for batch in self.batches for b in batch.blocks]

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> None:
        if self.extra is not None:
            await self.extra(batch, session)
        if self.fail_at is not None and batch.first <= self.fail_at <= batch.last:
            raise RuntimeError(f"consumer fails at block {self.fail_at}")
        self.batches.append(batch)
        self.progress.set()
        if self.stop_at is not None and batch.last >= self.stop_at:
            self.stop.set()

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> None:
        if self.fail_reorg:
            raise RuntimeError("reorg consumer failed")
        self.reorgs.append(reorg)
        self.progress.set()


SEEN_DDL = (
    "CREATE TABLE seen_block (network VARCHAR(64), number BIGINT, hash VARCHAR(66), "
    "PRIMARY KEY (network, number))"
)


async def create_seen_table(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(SEEN_DDL))


async def write_seen(batch: BlockBatch, session: AsyncSession) -> None:
    """One row per block, in the follower's transaction (the unique key catches any duplicate)."""
    await session.execute(
        text("INSERT INTO seen_block (network, number, hash) VALUES (:network, :number, :hash)"),
        [{"network": batch.network, "number": b.number, "hash": b.hash} for b in batch.blocks],
    )


async def seen_numbers(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT number FROM seen_block ORDER BY number"))
        return [int(r[0]) for r in rows]
