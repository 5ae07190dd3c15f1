"""Reads through the platform's RPC pool, addressing contracts by their manifest name — what the
on-chain kinds plan, observe and dry-run with."""

from __future__ import annotations

from typing import Any

from eth_utils.address import to_checksum_address

from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.emergency.abi import decode_output, encode_call

__all__ = ["ChainReader"]


class ChainReader:
    """Reads through the platform's RPC pool, addressing contracts by their manifest name."""

    def __init__(self, pool: RpcPool, manifest: Manifest) -> None:
        self.pool = pool
        self.manifest = manifest

    def address(self, name: str) -> str:
        return to_checksum_address(self.manifest.address(name))

    def artifact(self, name: str) -> str:
        return self.manifest.contracts[name].artifact if name in self.manifest.contracts else name

    def name_of(self, address: str) -> str | None:
        for name, entry in self.manifest.contracts.items():
            if entry.address.lower() == address.lower():
                return name
        return None

    async def read(self, name: str, fn: str, *args: Any, block: str = "latest") -> tuple[Any, ...]:
        return await self.read_at(self.address(name), self.artifact(name), fn, *args, block=block)

    async def read_at(
        self, address: str, artifact: str, fn: str, *args: Any, block: str = "latest"
    ) -> tuple[Any, ...]:
        data = encode_call(artifact, fn, *args)
        out = await self.pool.call("eth_call", [{"to": address, "data": data}, block])
        return decode_output(artifact, fn, str(out))

    async def head(self) -> int:
        return int(await self.pool.call("eth_blockNumber"), 16)

    async def chain_time(self) -> int:
        block = await self.pool.call("eth_getBlockByNumber", ["latest", False])
        return int(block["timestamp"], 16)
