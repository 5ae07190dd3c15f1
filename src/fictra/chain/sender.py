"""The one way the platform sends a transaction: nonce, fees, gas, sign, record, broadcast, track.

:meth:`TxSender.send` runs, under a lock per signing address (two sends of one key in one process never
pick the same nonce):

1. nonce — the node's pending count (the lock is held until the node has the transaction, so the
   next send of that key sees it counted);
2. fees and gas limit — :class:`~fictra.chain.sender_fees.FeePolicy`, the one formula;
3. signing — a :class:`TxSigner` (a keystore key, :class:`fictra.chain.keystore.Signer`);
4. recording — :meth:`TxStore.record` persists the signed transaction (hash, nonce, raw bytes) in the
   *caller's* storage and commits *before* anything leaves the process;
5. broadcast — ``eth_sendRawTransaction``; "already known" and "mined already" are success.

After a crash between 4 and 5 the caller finds its record and calls :meth:`TxSender.rebroadcast` with
the recorded raw transaction: the *same* signed bytes (same hash, same nonce) are sent again if the node
does not know them — never re-signed with a new nonce. :meth:`TxSender.track` follows a hash to N
confirmations by the chain head (polled on the injected clock), calling back on every (re-)inclusion.

All chain access goes through the :class:`~fictra.chain.pool.RpcPool` (failover, health).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from eth_utils.address import to_checksum_address

from fictra.chain.pool import RpcPool
from fictra.chain.revert import decode_revert
from fictra.chain.rpc import CallReverted
from fictra.chain.sender_fees import FeePolicy, Fees
from fictra.clock import Clock
from fictra.errors import ConflictError, RpcError

__all__ = ["Receipt", "SignedTx", "Tracked", "TxSender", "TxSigner", "TxStore"]


class TxSigner(Protocol):
    """A key that signs transactions (:class:`fictra.chain.keystore.Signer` is one)."""

    @property
    def address(self) -> str: ...

    def sign(self, tx: dict[str, Any]) -> tuple[str, str]:
        """Sign ``tx``; return (raw 0x-hex, tx hash 0x-hex)."""
        ...


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction as recorded before broadcast."""

    signer: str
    nonce: int
    tx_hash: str
    raw: str
    to: str | None
    data: str
    value: int
    gas_limit: int
    fees: Fees
    chain_id: int
    label: str


class TxStore(Protocol):
    """Where the caller keeps its signed transactions. :meth:`record` must have made ``tx`` durable
    (committed) when it returns; raising stops the send before the broadcast."""

    async def record(self, tx: SignedTx) -> None: ...


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    block_number: int
    block_hash: str
    ok: bool
    gas_used: int
    effective_gas_price: int
    contract_address: str | None
    raw: dict[str, Any]

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Receipt:
        created = raw.get("contractAddress")
        return cls(
            tx_hash=str(raw["transactionHash"]),
            block_number=int(raw["blockNumber"], 16),
            block_hash=str(raw["blockHash"]),
            ok=int(raw.get("status", "0x1"), 16) == 1,
            gas_used=int(raw["gasUsed"], 16),
            effective_gas_price=int(raw.get("effectiveGasPrice", "0x0"), 16),
            contract_address=to_checksum_address(created) if created else None,
            raw=raw,
        )


@dataclass(frozen=True)
class Tracked:
    """How tracking ended: ``confirmed`` (``confirmations`` ≥ wanted), ``failed`` (reverted, or the
    caller's callback said stop) or ``timeout`` (not included within the blocks allowed)."""

    status: Literal["confirmed", "failed", "timeout"]
    receipt: Receipt | None
    confirmations: int = 0
    reason: str | None = None


OnReceipt = Callable[[Receipt], Awaitable[bool]]


class TxSender:
    """Sends transactions through ``pool``; one instance per process, shared by every domain, so that
    its per-signer locks cover every sender of a key."""

    def __init__(
        self,
        *,
        pool: RpcPool,
        clock: Clock,
        policy: FeePolicy | None = None,
        poll_interval: float = 0.25,
    ) -> None:
        self.pool = pool
        self.clock = clock
        self.policy = policy or FeePolicy()
        self.poll_interval = poll_interval
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, address: str) -> asyncio.Lock:
        """The lock held while ``address`` picks a nonce, signs, records and broadcasts."""
        return self._locks.setdefault(address.lower(), asyncio.Lock())

    # -- reading the chain ------------------------------------------------------------------------

    async def chain_id(self) -> int:
        if self.pool.chain_id is None:
            self.pool.chain_id = int(await self.pool.call("eth_chainId"), 16)
        return self.pool.chain_id

    async def head(self) -> int:
        return int(await self.pool.call("eth_blockNumber"), 16)

    async def fees(self) -> Fees:
        """The policy's fees for the latest block."""
        block = await self.pool.call("eth_getBlockByNumber", ["latest", False])
        base = int(block.get("baseFeePerGas", "0x0"), 16)
        tip = None
        if self.policy.asks_node_for_tip:
            try:
                tip = int(await self.pool.call("eth_maxPriorityFeePerGas"), 16)
            except RpcError:
                tip = None
        return self.policy.fees(base_fee=base, node_tip=tip)

    async def estimate_gas(
        self, *, sender: str, to: str | None, data: str, value: int = 0, label: str = "transaction"
    ) -> int:
        """``eth_estimateGas``; a revert raises ConflictError with the decoded custom error."""
        call: dict[str, Any] = {"from": sender, "data": data, "value": hex(value)}
        if to is not None:
            call["to"] = to
        try:
            return int(await self.pool.call("eth_estimateGas", [call]), 16)
        except CallReverted as exc:
            raise ConflictError(
                decode_revert(exc.data, context=label).user_message + " (nothing sent)"
            ) from None

    async def receipt(self, tx_hash: str) -> Receipt | None:
        raw = await self.pool.call("eth_getTransactionReceipt", [tx_hash])
        return None if raw is None else Receipt.of(raw)

    async def replay_reason(self, *, sender: str, to: str | None, data: str, block: int, label: str) -> str:
        """Why a mined transaction reverted: the call replayed on the state before its block."""
        call: dict[str, Any] = {"from": sender, "data": data}
        if to is not None:
            call["to"] = to
        try:
            await self.pool.call("eth_call", [call, hex(max(block - 1, 0))])
        except CallReverted as exc:
            return decode_revert(exc.data, context=label).user_message
        return f"{label} reverted (the replay did not; state changed in between)"

    # -- sending ----------------------------------------------------------------------------------

    async def send(
        self,
        *,
        signer: TxSigner,
        to: str | None,
        data: str,
        store: TxStore,
        value: int = 0,
        estimate: int | None = None,
        label: str = "transaction",
        broadcast: bool = True,
    ) -> SignedTx:
        """Pick the nonce, fees and gas limit, sign, :meth:`TxStore.record`, then broadcast (unless
        ``broadcast`` is False: the caller broadcasts the recorded transaction later). ``estimate``
        (e.g. a dry run's gas) saves an ``eth_estimateGas``; ``to`` None creates a contract."""
        address = signer.address
        async with self.lock(address):
            nonce = int(await self.pool.call("eth_getTransactionCount", [address, "pending"]), 16)
            chain_id = await self.chain_id()
            fees = await self.fees()
            if estimate is None:
                estimate = await self.estimate_gas(sender=address, to=to, data=data, value=value, label=label)
            gas = self.policy.gas_limit(estimate)
            tx: dict[str, Any] = {
                "chainId": chain_id, "nonce": nonce, "data": data, "value": value, "gas": gas,
                **fees.fields(),
            }  # fmt: skip
            if to is not None:
                tx["to"] = to_checksum_address(to)
            raw, tx_hash = signer.sign(tx)
            signed = SignedTx(
                signer=address, nonce=nonce, tx_hash=tx_hash, raw=raw, to=tx.get("to"), data=data,
                value=value, gas_limit=gas, fees=fees, chain_id=chain_id, label=label,
            )  # fmt: skip
            await store.record(signed)
            if broadcast:
                await self.broadcast(raw=raw, tx_hash=tx_hash)
            return signed

    async def broadcast(self, *, raw: str, tx_hash: str) -> None:
        """``eth_sendRawTransaction``; success too when the node already has it or it was mined."""
        try:
            await self.pool.call("eth_sendRawTransaction", [raw])
        except RpcError as exc:
            msg = exc.user_message.lower()
            mined = "nonce too low" in msg and await self.receipt(tx_hash) is not None
            if not (mined or "already known" in msg or "already imported" in msg):
                raise ConflictError(f"Sending tx {tx_hash} failed: {exc.user_message}") from None

    async def rebroadcast(self, *, raw: str, tx_hash: str) -> bool:
        """Recovery after a crash: send the *recorded* ``raw`` transaction again when the node knows
        nothing of ``tx_hash`` (True), or do nothing when it is pending or mined (False)."""
        if await self.pool.call("eth_getTransactionByHash", [tx_hash]) is not None:
            return False
        await self.broadcast(raw=raw, tx_hash=tx_hash)
        return True

    # -- tracking ---------------------------------------------------------------------------------

    async def wait_block(self, after: int) -> int:
        """Wait until the chain head passes ``after`` (polling on the injected clock)."""
        while True:
            head = await self.head()
            if head > after:
                return head
            await self.clock.sleep(self.poll_interval)

    async def track(
        self,
        *,
        tx_hash: str,
        confirmations: int,
        timeout_blocks: int,
        on_receipt: OnReceipt | None = None,
        seen_block_hash: str | None = None,
    ) -> Tracked:
        """Follow ``tx_hash`` until ``confirmations`` blocks are on top of its block. ``on_receipt`` is
        awaited on each inclusion in a block not seen yet (first inclusion, or again after a reorg moved
        it; ``seen_block_hash`` is the one already handled) and returns False to stop (failed); without
        it a reverted receipt fails. Not included within ``timeout_blocks`` of the start: timeout."""
        start = head = await self.head()
        seen = seen_block_hash
        while True:
            receipt = await self.receipt(tx_hash)
            if receipt is None:
                if head - start > timeout_blocks:
                    return Tracked("timeout", None, reason=f"not included within {timeout_blocks} blocks")
                head = await self.wait_block(head)
                continue
            if receipt.block_hash != seen:
                seen = receipt.block_hash
                keep = await on_receipt(receipt) if on_receipt is not None else receipt.ok
                if not keep:
                    return Tracked("failed", receipt, reason=None if receipt.ok else "reverted")
            head = max(head, await self.head())
            if head - receipt.block_number >= confirmations:
                return Tracked("confirmed", receipt, head - receipt.block_number)
            head = await self.wait_block(head)
