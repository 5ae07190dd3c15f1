"""web3.py on the platform's JSON-RPC client: a web3 provider whose every request goes through
:class:`fictra.chain.rpc.RpcClient` (httpx, one connection pool per provider, a deadline per call).

web3's own ``AsyncHTTPProvider`` shares aiohttp sessions through a process-wide session manager guarded
by a thread lock; a receipt wait cancelled at the wrong moment left that lock held and every later web3
call of the process blocked (the devnet simulator went silent a minute after a reorg dropped some of
its transactions, and Ctrl-C then waited on the blocked thread). Here a cancelled call just cancels its
httpx request: the connection is closed and nothing stays locked. Devnet tooling (the simulator, the
deployer) uses web3 contracts only for ABI encoding and decoding, over this provider.
"""

from __future__ import annotations

from typing import Any, cast

from web3 import AsyncWeb3
from web3.providers.async_base import AsyncJSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from fictra.chain.rpc import RpcClient
from fictra.errors import RpcError

DEFAULT_DEADLINE_S = 30.0


class RpcClientProvider(AsyncJSONBaseProvider):
    """A web3 async provider over one :class:`RpcClient`; ``deadline`` bounds every request."""

    def __init__(self, url: str, *, deadline: float = DEFAULT_DEADLINE_S) -> None:
        super().__init__()
        self.client = RpcClient(url=url, timeout=deadline)
        self.deadline = deadline

    async def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        request = self.form_request(method, params)
        answer = await self._send(dict(request))
        if not isinstance(answer, dict):
            raise RpcError(f"RPC endpoint '{self.client.label}' answered a malformed reply to {method}.")
        return cast(RPCResponse, answer)

    async def make_batch_request(self, requests: list[tuple[RPCEndpoint, Any]]) -> list[RPCResponse]:
        payload = [dict(self.form_request(method, params)) for method, params in requests]
        answer = await self._send(payload)
        if not isinstance(answer, list):
            raise RpcError(f"RPC endpoint '{self.client.label}' answered a malformed batch reply.")
        by_id = {item.get("id"): item for item in answer if isinstance(item, dict)}
        return [
            cast(RPCResponse, by_id.get(item["id"], {"error": {"message": "missing"}})) for item in payload
        ]

    async def _send(self, payload: object) -> Any:
        return await self.client.request(_plain(payload), deadline=self.deadline)

    async def is_connected(self, show_traceback: bool = False) -> bool:
        try:
            await self.client.call("eth_chainId", deadline=min(self.deadline, 5.0))
        except RpcError:
            if show_traceback:
                raise
            return False
        return True

    async def disconnect(self) -> None:
        await self.client.aclose()


def _plain(value: Any) -> Any:
    """web3 hands the provider HexBytes and AttributeDicts: make them JSON (0x-hex strings, dicts)."""
    if isinstance(value, bytes | bytearray):
        return "0x" + bytes(value).hex()
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def async_web3(url: str, *, deadline: float = DEFAULT_DEADLINE_S) -> AsyncWeb3[Any]:
    """An AsyncWeb3 whose requests go through :class:`RpcClientProvider`."""
    return AsyncWeb3(RpcClientProvider(url, deadline=deadline))
