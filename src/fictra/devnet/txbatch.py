"""Fast, locally signed transaction batches for the devnet deployer.

Transactions are signed with the deterministic devnet keys (eth_account; coincurve makes it fast),
given explicit nonces per sender, and sent without waiting for each receipt: one sender's transactions
go out in nonce order, different senders concurrently. :meth:`TxBatch.settle` then fetches every
receipt and raises :class:`~fictra.errors.DevnetError` naming the first failed step and its decoded
revert. Addresses of contracts about to be created are known in advance (:func:`create_address`).

This is devnet tooling (deploy, fill): production code sends through :mod:`fictra.chain.sender`. The
fees come from the same formula (:class:`~fictra.chain.sender_fees.FeePolicy`), with a margin wide
enough for a deployment spanning many blocks (:data:`DEPLOY_FEES`, :meth:`TxBatch.fees_for`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import encode
from eth_account import Account
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import AsyncWeb3
from web3.exceptions import TransactionNotFound

from fictra.chain import artifacts
from fictra.chain.revert import decode_revert, revert_data_from
from fictra.chain.sender_fees import FeePolicy
from fictra.clock import Clock, SystemClock
from fictra.devnet.accounts import DevAccount
from fictra.errors import DevnetError

RECEIPT_TIMEOUT_S = 60.0
DEPLOY_FEES = FeePolicy(max_fee_multiplier=4, priority_fee_gwei=1)
_FIRST_POLL_S = 0.01
_MAX_POLL_S = 0.5


def _rlp_int(value: int) -> bytes:
    if value == 0:
        return b"\x80"
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return raw if len(raw) == 1 and raw[0] < 0x80 else bytes([0x80 + len(raw)]) + raw


def create_address(sender: str, nonce: int) -> str:
    """The address of the contract ``sender`` creates with ``nonce`` (CREATE)."""
    payload = b"\x94" + bytes.fromhex(sender[2:]) + _rlp_int(nonce)
    return to_checksum_address(keccak(bytes([0xC0 + len(payload)]) + payload)[12:])


def create2_address(deployer: str, salt: bytes, init_code: bytes) -> str:
    """The address ``deployer`` creates with CREATE2 ``salt`` and ``init_code``."""
    digest = keccak(b"\xff" + bytes.fromhex(deployer[2:]) + salt + keccak(init_code))
    return to_checksum_address(digest[12:])


def _abi_type(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in param["components"]) + ")" + kind[5:]
    return kind


def calldata(artifact: str, fn: str, *args: Any) -> str:
    """ABI-encoded call of ``fn`` (picked by name and argument count) on ``artifact``'s ABI."""
    for entry in artifacts.load(artifact).entries("function"):
        if entry["name"] == fn and len(entry["inputs"]) == len(args):
            types = [_abi_type(p) for p in entry["inputs"]]
            selector = keccak(text=f"{fn}({','.join(types)})")[:4]
            return "0x" + (selector + encode(types, list(args))).hex()
    raise DevnetError(f"Artifact '{artifact}' has no function {fn} taking {len(args)} arguments.")


def creation_code(artifact: str, *args: Any) -> str:
    """``artifact``'s creation bytecode followed by its ABI-encoded constructor arguments."""
    art = artifacts.load(artifact)
    ctor = art.entries("constructor")
    types = [_abi_type(p) for p in ctor[0]["inputs"]] if ctor else []
    if len(types) != len(args):
        raise DevnetError(f"Constructor of '{artifact}' takes {len(types)} arguments, got {len(args)}.")
    return art.bytecode + (encode(types, list(args)).hex() if types else "")


@dataclass
class _Pending:
    step: str
    sender: DevAccount
    tx: dict[str, Any]
    signed: bytes
    tx_hash: str = ""


@dataclass
class TxBatch:
    """Queue transactions with :meth:`add`, send them with :meth:`send`, check them with :meth:`settle`."""

    w3: AsyncWeb3[Any]
    chain_id: int
    max_fee: int
    priority_fee: int
    clock: Clock = field(default_factory=SystemClock)
    nonces: dict[str, int] = field(default_factory=dict)
    _queue: list[_Pending] = field(default_factory=list)
    _sent: list[_Pending] = field(default_factory=list)

    @staticmethod
    def fees_for(base_fee: int, policy: FeePolicy = DEPLOY_FEES) -> tuple[int, int]:
        """(max fee, priority fee) for a batch starting at a block of ``base_fee`` (the sender's formula)."""
        fees = policy.fees(base_fee=base_fee)
        return fees.max_fee, fees.priority_fee

    async def load_nonces(self, accounts: list[DevAccount]) -> None:
        counts = await asyncio.gather(
            *(self.w3.eth.get_transaction_count(to_checksum_address(a.address), "pending") for a in accounts)
        )
        self.nonces.update({a.address: int(n) for a, n in zip(accounts, counts, strict=True)})

    def next_nonce(self, sender: DevAccount) -> int:
        """The nonce the next queued transaction of ``sender`` will use."""
        return self.nonces[sender.address]

    def add(self, step: str, sender: DevAccount, to: str | None, data: str, *, gas: int) -> None:
        nonce = self.nonces[sender.address]
        self.nonces[sender.address] = nonce + 1
        tx: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": nonce,
            "gas": gas,
            "maxFeePerGas": self.max_fee,
            "maxPriorityFeePerGas": self.priority_fee,
            "value": 0,
            "data": data,
            "type": 2,
        }
        if to is not None:
            tx["to"] = to_checksum_address(to)
        signed = Account.sign_transaction(tx, sender.private_key)
        self._queue.append(_Pending(step=step, sender=sender, tx=tx, signed=bytes(signed.raw_transaction)))

    async def send(self) -> None:
        """Send everything queued: each sender's transactions in order, senders concurrently."""
        by_sender: dict[str, list[_Pending]] = {}
        for item in self._queue:
            by_sender.setdefault(item.sender.address, []).append(item)
        self._queue = []

        async def send_all(items: list[_Pending]) -> str | None:
            for item in items:
                try:
                    item.tx_hash = (await self.w3.eth.send_raw_transaction(item.signed)).to_0x_hex()
                except Exception as exc:  # web3 raises several types for a rejected transaction
                    return f"Deploy step '{item.step}' was rejected by the node: {exc}"
                self._sent.append(item)
            return None

        # Every sender's coroutine runs to its end (none is left sending after a failure).
        problems = await asyncio.gather(*(send_all(items) for items in by_sender.values()))
        first = next((p for p in problems if p is not None), None)
        if first is not None:
            raise DevnetError(first)

    async def settle(self) -> dict[str, Any]:
        """Wait for every sent transaction; raise DevnetError on the first failure. Returns the receipts
        by step name."""
        sent, self._sent = self._sent, []
        # A sender's transactions are mined in nonce order: wait for each sender's last one, then
        # fetch the rest at once.
        last: dict[str, _Pending] = {}
        for item in sent:
            last[item.sender.address] = item
        await asyncio.gather(*(self._receipt(item) for item in last.values()))
        receipts = await asyncio.gather(*(self._receipt(item) for item in sent))
        by_step: dict[str, Any] = {}
        failed = [(item, r) for item, r in zip(sent, receipts, strict=True) if int(r["status"]) != 1]
        if failed:
            item, receipt = min(failed, key=lambda pair: (int(pair[1]["blockNumber"]), pair[0].tx["nonce"]))
            reason = await self._revert_reason(item, int(receipt["blockNumber"]))
            raise DevnetError(
                f"Deploy step '{item.step}' failed (tx {item.tx_hash}, block {int(receipt['blockNumber'])}): "
                f"{reason}"
            )
        for item, receipt in zip(sent, receipts, strict=True):
            by_step[item.step] = receipt
        return by_step

    async def flush(self) -> dict[str, Any]:
        await self.send()
        return await self.settle()

    async def _receipt(self, item: _Pending) -> Any:
        deadline = self.clock.monotonic() + RECEIPT_TIMEOUT_S
        pause = _FIRST_POLL_S
        while True:
            try:
                return await self.w3.eth.get_transaction_receipt(item.tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                if self.clock.monotonic() > deadline:
                    raise DevnetError(
                        f"Deploy step '{item.step}' (tx {item.tx_hash}) was not mined within "
                        f"{RECEIPT_TIMEOUT_S:.0f}s. Is the node mining (automine or a block time)?"
                    ) from None
                await self.clock.sleep(pause)
                pause = min(pause * 2, _MAX_POLL_S)

    async def _revert_reason(self, item: _Pending, block: int) -> str:
        call: dict[str, Any] = {
            "from": item.sender.address,
            "data": item.tx["data"],
            "gas": item.tx["gas"],
        }
        if "to" in item.tx:
            call["to"] = item.tx["to"]
        response = await self.w3.provider.make_request("eth_call", [call, hex(max(block - 1, 0))])
        error = response.get("error")
        if error is None:
            return "reverted (out of gas, or the revert did not reproduce in a replay)."
        return decode_revert(revert_data_from(error)).user_message
