"""Small async helpers the devnet tools share: raw JSON-RPC (with batches), the mining mode, and
:class:`DevChain` — the deployed system seen through the manifest, sending from Anvil's unlocked
devnet accounts (or an impersonated contract such as the Timelock).

This is devnet tooling, not the platform's chain layer (``fictra.chain``): it assumes a local Anvil
that signs for its own accounts and answers the ``anvil_*``/``evm_*`` methods. Its web3 contracts run
over the platform's JSON-RPC client (:mod:`fictra.chain.web3client`: httpx, a deadline per call,
nothing shared between calls), never web3's HTTP session manager. A receipt wait notices a transaction
the node no longer knows (dropped by a reorg) and says so at once instead of waiting out its deadline.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

import httpx
from eth_utils.address import to_checksum_address
from web3.contract import AsyncContract
from web3.exceptions import TransactionNotFound
from web3.types import TxReceipt

from fictra.chain.manifest import Manifest
from fictra.chain.revert import decode_revert
from fictra.chain.web3client import async_web3
from fictra.errors import ContractError, DevnetError, RpcError, redact_url

DEFAULT_GAS = 500_000
# generous fee cap: devnet senders keep transacting through a gas spike (they pay base fee + tip only)
MAX_FEE_PER_GAS = 5_000 * 10**9
PRIORITY_FEE_PER_GAS = 10**9
DROP_CHECK_S = 1.0  # a receipt wait asks this often whether the node still knows the transaction


class TxDropped(DevnetError):
    """The node no longer knows a transaction it accepted (a reorg dropped it, or it was evicted)."""


class Rpc:
    """Raw JSON-RPC over one pooled HTTP connection; ``batch`` sends many calls in one request."""

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        self.url = url
        self._client = httpx.AsyncClient(timeout=timeout)
        self._ids = itertools.count(1)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Rpc:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _post(self, body: object) -> Any:
        try:
            resp = await self._client.post(self.url, json=body)
            resp.raise_for_status()
            return resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RpcError(f"JSON-RPC request to {redact_url(self.url)} failed: {exc!s}") from None

    async def raw(self, method: str, params: list[Any] | None = None) -> dict[str, Any]:
        """The whole JSON-RPC answer (``result`` or ``error`` with its ``data``)."""
        payload = await self._post(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params or []}
        )
        return dict(payload)

    async def call(self, method: str, params: list[Any] | None = None) -> Any:
        payload = await self.raw(method, params)
        if "error" in payload:
            raise RpcError(f"{method} failed: {payload['error'].get('message', payload['error'])}")
        return payload["result"]

    async def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Send ``calls`` in one HTTP request; returns each result, or the error dict for failed ones."""
        if not calls:
            return []
        first = next(self._ids)
        self._ids = itertools.count(first + len(calls))
        body = [
            {"jsonrpc": "2.0", "id": first + i, "method": m, "params": p} for i, (m, p) in enumerate(calls)
        ]
        payload = await self._post(body)
        if not isinstance(payload, list):
            raise RpcError(f"Batch request to {redact_url(self.url)} answered {str(payload)[:200]}")
        by_id = {item.get("id"): item for item in payload}
        out: list[Any] = []
        for i in range(len(calls)):
            item = by_id.get(first + i, {"error": {"message": "missing from the batch answer"}})
            out.append(item["result"] if "result" in item else {"error": item.get("error")})
        return out


@dataclass(frozen=True)
class MiningMode:
    """Anvil's mining mode: automine (a block per transaction) and/or interval mining (seconds)."""

    automine: bool
    interval: int | None

    @classmethod
    async def read(cls, rpc: Rpc) -> MiningMode:
        automine = bool(await rpc.call("anvil_getAutomine"))
        interval = await rpc.call("anvil_getIntervalMining")
        return cls(automine=automine, interval=int(interval) if interval else None)

    async def apply(self, rpc: Rpc) -> None:
        await rpc.call("evm_setIntervalMining", [self.interval or 0])
        await rpc.call("evm_setAutomine", [self.automine])


def _abi_for(artifact: str) -> list[dict[str, Any]]:
    from fictra.chain import artifacts

    return list(artifacts.load(artifact).abi)


class DevChain:
    """The deployed FICTRA system on a local Anvil, addressed by manifest names."""

    def __init__(self, rpc_url: str, manifest: Manifest) -> None:
        self.rpc_url = rpc_url
        self.manifest = manifest
        self.w3 = async_web3(rpc_url, deadline=30.0)
        self.rpc = Rpc(rpc_url)
        self._contracts: dict[str, AsyncContract] = {}
        self._sender_locks: dict[str, asyncio.Lock] = {}
        self._unlocked: set[str] | None = None

    async def aclose(self) -> None:
        await self.rpc.aclose()
        await self.w3.provider.disconnect()

    async def __aenter__(self) -> DevChain:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def contract(self, name: str) -> AsyncContract:
        if name not in self._contracts:
            entry = self.manifest.contracts.get(name)
            if entry is None:
                self.manifest.address(name)  # raises the ConfigError naming the known contracts
                raise AssertionError("unreachable")
            self._contracts[name] = self.w3.eth.contract(
                address=to_checksum_address(entry.address), abi=_abi_for(entry.artifact)
            )
        return self._contracts[name]

    def at(self, artifact: str, address: str) -> AsyncContract:
        return self.w3.eth.contract(address=to_checksum_address(address), abi=_abi_for(artifact))

    def role(self, name: str) -> list[str]:
        return [to_checksum_address(a) for a in self.manifest.roles.get(name, [])]

    async def call(self, name: str, fn: str, *args: Any) -> Any:
        return await self.contract(name).functions[fn](*args).call()

    async def send_raw(
        self, sender: str, to: str, data: str = "0x", *, value: int = 0, gas: int = DEFAULT_GAS
    ) -> str:
        """Send from an unlocked (or impersonated) account without gas estimation; returns the tx hash."""
        tx = {"from": to_checksum_address(sender), "to": to_checksum_address(to), "data": data}
        tx.update({"value": hex(value), "gas": hex(gas)})
        tx.update({"maxFeePerGas": hex(MAX_FEE_PER_GAS), "maxPriorityFeePerGas": hex(PRIORITY_FEE_PER_GAS)})
        # one send at a time per sender: Anvil picks the nonce, and concurrent sends could share one
        lock = self._sender_locks.setdefault(tx["from"], asyncio.Lock())
        async with lock:
            return str(await self.rpc.call("eth_sendTransaction", [tx]))

    async def send(
        self,
        sender: str,
        name: str,
        fn: str,
        *args: Any,
        gas: int = DEFAULT_GAS,
        wait: bool = True,
        check: bool = True,
    ) -> TxReceipt | str:
        """Call ``name.fn(*args)`` from ``sender``. With ``wait``, returns the receipt and (with
        ``check``) raises :class:`ContractError` naming the decoded custom error when it reverted."""
        contract = self.contract(name)
        data = contract.encode_abi(fn, args=list(args))
        tx_hash = await self.send_raw(sender, contract.address, data, gas=gas)
        if not wait:
            return tx_hash
        receipt = await self.receipt(tx_hash)
        if check and receipt["status"] != 1:
            raise await self.revert_reason(
                sender, contract, data, receipt["blockNumber"], context=f"{name}.{fn} from {sender}"
            )
        return receipt

    async def receipt(self, tx_hash: str, *, wait_s: float = 60.0) -> TxReceipt:
        """The receipt of ``tx_hash`` once mined. :class:`TxDropped` as soon as the node no longer knows
        the transaction (a reorg dropped it); DevnetError after ``wait_s`` without a receipt."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        checked = loop.time()
        pause = 0.02
        while True:
            try:
                return await self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
            except TransactionNotFound:
                pass
            now = loop.time()
            if now - checked >= DROP_CHECK_S:
                checked = now
                if await self.rpc.call("eth_getTransactionByHash", [tx_hash]) is None:
                    raise TxDropped(
                        f"Transaction {tx_hash} was dropped (a reorg?): the node no longer knows it."
                    )
            if now >= deadline:
                raise DevnetError(f"Transaction {tx_hash} was not mined within {wait_s:.0f}s.")
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)

    async def revert_reason(
        self, sender: str, contract: AsyncContract, data: str, block: int, *, context: str = ""
    ) -> ContractError:
        """Replay a reverted call on the state before ``block`` and decode its error (every shipped ABI's
        custom errors, Error(string), Panic) with :func:`fictra.chain.revert.decode_revert`."""
        payload = await self.rpc.raw(
            "eth_call", [{"from": sender, "to": contract.address, "data": data}, hex(max(block - 1, 0))]
        )
        error = payload.get("error")
        if not error:
            return ContractError(f"{context} reverted (the replay did not; state changed in between).")
        if not error.get("data"):
            return ContractError(f"{context} reverted: {error.get('message', error)}.")
        return decode_revert(error["data"], context=context)

    async def is_unlocked(self, address: str) -> bool:
        """True for an account the node signs for itself (Anvil's dev accounts)."""
        if self._unlocked is None:
            self._unlocked = {a.lower() for a in await self.rpc.call("eth_accounts")}
        return address.lower() in self._unlocked

    async def impersonate(self, address: str, *, fund_eth: int = 10) -> None:
        """Let the node send for ``address``; gas money comes in a real transfer from a dev account (not
        anvil_setBalance), so the funding is chain history a reorg replays along with what follows."""
        checksum = to_checksum_address(address)
        await self.rpc.call("anvil_impersonateAccount", [checksum])
        if int(await self.rpc.call("eth_getBalance", [checksum, "latest"]), 16) < 10**18:
            funder = (await self.rpc.call("eth_accounts"))[0]
            receipt = await self.receipt(await self.send_raw(funder, checksum, value=fund_eth * 10**18))
            if receipt["status"] != 1:
                raise DevnetError(f"Funding the impersonated account {checksum} with ETH reverted.")

    async def stop_impersonating(self, address: str) -> None:
        await self.rpc.call("anvil_stopImpersonatingAccount", [to_checksum_address(address)])

    async def chain_time(self) -> int:
        block = await self.rpc.call("eth_getBlockByNumber", ["latest", False])
        return int(block["timestamp"], 16)

    async def head(self) -> int:
        return int(await self.rpc.call("eth_blockNumber"), 16)

    async def mine(self, blocks: int = 1) -> None:
        await self.rpc.call("anvil_mine", [hex(blocks)])

    async def increase_time(self, seconds: int) -> None:
        await self.rpc.call("evm_increaseTime", [hex(seconds)])
        await self.mine()
