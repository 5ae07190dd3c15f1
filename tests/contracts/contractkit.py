"""Helpers for the contract tests: the deployed system addressed by manifest names, sending from
Anvil's unlocked devnet accounts and decoding reverts with fictra.chain.revert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import AsyncWeb3
from web3.contract import AsyncContract
from web3.logs import DISCARD as _DISCARD

from fictra.chain import artifacts
from fictra.chain.manifest import Manifest
from fictra.chain.revert import decode_revert, revert_data_from
from fictra.devnet.anvil import AnvilNode
from fictra.errors import ContractError

GAS = 2_000_000


def role_id(name: str) -> bytes:
    return b"\x00" * 32 if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)


@dataclass
class System:
    """The deployed system, addressed by manifest names, sending from Anvil's unlocked accounts."""

    node: AnvilNode
    w3: AsyncWeb3[Any]
    manifest: Manifest

    def c(self, name: str) -> AsyncContract:
        entry = self.manifest.contracts[name]
        return self.w3.eth.contract(
            address=to_checksum_address(entry.address), abi=artifacts.load(entry.artifact).abi
        )

    def at(self, artifact: str, address: str) -> AsyncContract:
        return self.w3.eth.contract(address=to_checksum_address(address), abi=artifacts.load(artifact).abi)

    def addr(self, name: str) -> str:
        return to_checksum_address(self.manifest.address(name))

    async def rpc(self, method: str, params: list[Any]) -> Any:
        response = await self.w3.provider.make_request(method, params)  # type: ignore[arg-type]
        if "error" in response:
            raise RuntimeError(f"{method}: {response['error']}")
        return response["result"]

    def _data(self, contract: AsyncContract, fn: str, args: tuple[Any, ...]) -> str:
        return contract.encode_abi(fn, args=list(args))

    async def send(self, sender: str, name: str, fn: str, *args: Any) -> Any:
        """Send ``name.fn(*args)`` from ``sender``; returns the receipt, raises the decoded ContractError."""
        contract = self.c(name)
        return await self.send_to(
            sender, contract.address, self._data(contract, fn, args), context=f"{name}.{fn}"
        )

    async def send_to(self, sender: str, to: str | None, data: str, *, context: str = "tx") -> Any:
        tx: dict[str, Any] = {
            "from": to_checksum_address(sender),
            "data": data,
            "gas": hex(GAS * 4 if to is None else GAS),
        }
        if to is not None:
            tx["to"] = to_checksum_address(to)
        tx_hash = await self.rpc("eth_sendTransaction", [tx])
        receipt = await self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.01)
        if receipt["status"] != 1:
            call = {k: v for k, v in tx.items() if k != "gas"}
            raise await self.call_error(call, hex(receipt["blockNumber"] - 1), context)
        return receipt

    async def call_error(self, call: dict[str, Any], block: str, context: str) -> ContractError:
        response = await self.w3.provider.make_request("eth_call", [call, block])  # type: ignore[arg-type]
        if "error" not in response:
            return ContractError(f"{context}: reverted but the replay succeeded")
        return decode_revert(revert_data_from(response["error"]), context=context)

    async def revert_of(self, sender: str, name: str, fn: str, *args: Any) -> ContractError:
        """The decoded error of calling ``name.fn(*args)`` from ``sender`` (eth_call; no state change).
        Fails the test when the call does not revert."""
        contract = self.c(name)
        call = {
            "from": to_checksum_address(sender),
            "to": contract.address,
            "data": self._data(contract, fn, args),
        }
        response = await self.w3.provider.make_request("eth_call", [call, "latest"])  # type: ignore[arg-type]
        if "error" not in response:
            pytest.fail(f"{name}.{fn}{args} from {sender} did not revert")
        return decode_revert(revert_data_from(response["error"]), context=f"{name}.{fn}")

    async def view(self, name: str, fn: str, *args: Any) -> Any:
        return await self.c(name).functions[fn](*args).call()

    async def events(self, receipt: Any, name: str, event: str) -> list[dict[str, Any]]:
        ev = self.c(name).events[event]()
        return [dict(e["args"]) for e in ev.process_receipt(receipt, errors=_DISCARD)]

    async def increase_time(self, seconds: int) -> None:
        await self.rpc("evm_increaseTime", [seconds])
        await self.rpc("evm_mine", [])

    async def mine(self, blocks: int) -> None:
        await self.rpc("anvil_mine", [hex(blocks)])


@dataclass(frozen=True)
class Actors:
    deployer: str
    guardian: str
    issuer: str
    fee_manager: str
    reserve_manager: str
    transfer_agent: str
    proposer: str
    attacker: str
    nodes: list[str]
    sovereigns: list[str]
    traders: list[str]


ZERO32 = b"\x00" * 32


async def schedule(
    system: System, proposer: str, name: str, fn: str, *args: Any, salt: bytes = ZERO32
) -> tuple[str, str, bytes]:
    """Schedule ``name.fn(*args)`` on the Timelock with its minimum delay; returns (target, data, id)."""
    target = system.addr(name)
    data = system.c(name).encode_abi(fn, args=list(args))
    delay = await system.view("Timelock", "getMinDelay")
    await system.send(proposer, "Timelock", "schedule", target, 0, data, ZERO32, salt, delay)
    op_id = await system.view("Timelock", "hashOperation", target, 0, data, ZERO32, salt)
    return target, data, op_id


async def through_timelock(system: System, proposer: str, name: str, fn: str, *args: Any) -> Any:
    """Schedule, wait out the minimum delay (evm_increaseTime), execute; returns the execute receipt."""
    target, data, _op = await schedule(system, proposer, name, fn, *args)
    await system.increase_time(int(await system.view("Timelock", "getMinDelay")) + 1)
    return await system.send(proposer, "Timelock", "execute", target, 0, data, ZERO32, ZERO32)
