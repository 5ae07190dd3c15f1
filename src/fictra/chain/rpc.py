"""A thin async JSON-RPC client over httpx: one pooled ``AsyncClient`` per endpoint, single calls and
batches, raw JSON results (no web3.py formatters on the hot path).

Every failure is an :class:`~fictra.errors.RpcError` whose message names the endpoint by its redacted
URL (never credentials or API keys) and the method that failed. Bodies are encoded and decoded with
orjson. Every call takes an optional per-call ``deadline`` in seconds (a health probe waits far less
than a catch-up fetch); a cancelled call releases its connection (httpx closes it): nothing is left
holding a lock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import httpx
import orjson

from fictra.errors import RpcError, redact_url

Call = tuple[str, list[Any]]

# JSON-RPC error codes meaning "this node does not offer that method".
_METHOD_MISSING_CODES = frozenset({-32601, -32004})
# How nodes say "I do not keep the state of that block" (Anvil, geth, Erigon, Nethermind, Reth, Besu).
_STATE_GONE = (
    "blockoutofrange",
    "block out of range",
    "missing trie node",
    "header not found",
    "historical state",
    "state not available",
    "state is not available",
    "state histories",
    "pruned",
    "unknown block",
    "world state",
)


class RpcMethodMissing(RpcError):
    """The endpoint answered that it does not support a method (so a fallback may be used)."""


class CallReverted(RpcError):
    """An ``eth_call``/``eth_estimateGas`` reverted: a correct answer about the contract, not a fault of
    the endpoint. ``data`` holds the revert data (0x-hex) when the node returned it."""

    def __init__(self, user_message: str, *, data: str | None = None) -> None:
        super().__init__(user_message)
        self.data = data


class StateUnavailable(RpcError):
    """The endpoint does not keep the state of the block a read asked for (a pruning, non-archive node;
    or a block it has not got yet). The pool tries another endpoint, then reads at the head."""


class RpcClient:
    """One endpoint. ``url`` is kept private; ``label`` (the redacted URL) is what messages show."""

    def __init__(self, *, url: str, timeout: float = 10.0, max_connections: int = 16) -> None:
        self._url = url
        self.label = redact_url(url)
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            headers={"Content-Type": "application/json"},
        )
        self._next_id = 0

    @property
    def url(self) -> str:
        """The full URL (may hold credentials: never log it; use :attr:`label`)."""
        return self._url

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _post(self, payload: object, what: str, deadline: float | None = None) -> Any:
        try:
            body = orjson.dumps(payload)
        except TypeError:  # an integer beyond 64 bits in the params: the standard encoder takes it
            body = json.dumps(payload, separators=(",", ":")).encode()
        extra: dict[str, Any] = {} if deadline is None else {"timeout": httpx.Timeout(deadline)}
        try:
            response = await self._client.post(self._url, content=body, **extra)
        except httpx.TimeoutException:
            raise RpcError(f"RPC endpoint '{self.label}' timed out on {what}.") from None
        except httpx.HTTPError as exc:
            raise RpcError(
                f"RPC endpoint '{self.label}' is unreachable ({type(exc).__name__}) on {what}. "
                "Check that the node runs and the URL is right."
            ) from None
        if response.status_code != 200:
            raise RpcError(f"RPC endpoint '{self.label}' answered HTTP {response.status_code} on {what}.")
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise RpcError(f"RPC endpoint '{self.label}' answered non-JSON on {what}.") from None

    def _error(self, method: str, error: Any) -> RpcError:
        code = error.get("code") if isinstance(error, dict) else None
        message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
        text = f"RPC endpoint '{self.label}' failed {method}: {message[:200]}"
        lowered = message.lower()
        if code == 3 or "execution reverted" in lowered:
            data = error.get("data") if isinstance(error, dict) else None
            return CallReverted(text, data=data if isinstance(data, str) else None)
        if code in _METHOD_MISSING_CODES or "not supported" in lowered or "method not found" in lowered:
            return RpcMethodMissing(text)
        squeezed = lowered.replace(" ", "")
        if any(marker.replace(" ", "") in squeezed for marker in _STATE_GONE):
            return StateUnavailable(text)
        return RpcError(text)

    async def request(self, payload: object, *, deadline: float | None = None) -> Any:
        """Send a ready JSON-RPC payload (one request or a batch) and return the decoded answer as it
        came, errors included (for adapters such as :mod:`fictra.chain.web3client`)."""
        what = payload.get("method", "a request") if isinstance(payload, dict) else "a batch"
        return await self._post(payload, str(what), deadline)

    async def call(
        self, method: str, params: list[Any] | None = None, *, deadline: float | None = None
    ) -> Any:
        self._next_id += 1
        payload = {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params or []}
        answer = await self._post(payload, method, deadline)
        if not isinstance(answer, dict):
            raise RpcError(f"RPC endpoint '{self.label}' answered a malformed reply to {method}.")
        if "error" in answer:
            raise self._error(method, answer["error"])
        return answer.get("result")

    async def batch(
        self, calls: Sequence[Call], *, reverts_as_values: bool = False, deadline: float | None = None
    ) -> list[Any]:
        """Send ``calls`` as one JSON-RPC batch; results in the order of ``calls``.

        Any item error fails the whole batch (callers retry or fall back) — except, with
        ``reverts_as_values``, a reverted call, whose :class:`CallReverted` takes its result's place."""
        if not calls:
            return []
        base = self._next_id + 1
        self._next_id += len(calls)
        payload = [
            {"jsonrpc": "2.0", "id": base + i, "method": method, "params": params}
            for i, (method, params) in enumerate(calls)
        ]
        what = f"a batch of {len(calls)} ({calls[0][0]}...)"
        answer = await self._post(payload, what, deadline)
        if not isinstance(answer, list):
            if isinstance(answer, dict) and "error" in answer:
                raise self._error(what, answer["error"])
            raise RpcError(f"RPC endpoint '{self.label}' answered a malformed reply to {what}.")
        results: list[Any] = [None] * len(calls)
        seen = 0
        for item in answer:
            index = item.get("id", -1) - base if isinstance(item, dict) else -1
            if not 0 <= index < len(calls):
                raise RpcError(f"RPC endpoint '{self.label}' answered an unknown id in {what}.")
            if "error" in item:
                error = self._error(calls[index][0], item["error"])
                if not (reverts_as_values and isinstance(error, CallReverted)):
                    raise error
                results[index] = error
            else:
                results[index] = item.get("result")
            seen += 1
        if seen != len(calls):
            raise RpcError(f"RPC endpoint '{self.label}' answered {seen} of {len(calls)} items of {what}.")
        return results
