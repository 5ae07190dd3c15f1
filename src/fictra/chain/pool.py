"""A pool of RPC endpoints for one network, with health records and failover.

Each endpoint keeps an :class:`EndpointHealth` (latency EWMA, consecutive errors, last head, last
error, state). :meth:`RpcPool.run` sends an operation to the best endpoint (healthy before degraded,
then lowest latency; never one marked bad or resting after errors) and fails over to the next on an
error or timeout, with exponential backoff once every endpoint has failed in a round. An endpoint more
than ``max_lag_blocks`` behind the best head seen is degraded and avoided while a better one exists.
An endpoint on the wrong chain id is marked bad for good, with the reason in its record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, TypeVar

from fictra.chain.rpc import Call, CallReverted, RpcClient, RpcMethodMissing
from fictra.clock import Clock
from fictra.errors import ChainError, ConfigError, RpcError
from fictra.metrics import Metrics

T = TypeVar("T")
_STATE_RANK = {"healthy": 0, "degraded": 1, "down": 2}


class EndpointState(StrEnum):
    HEALTHY = "healthy"
    DEGRADED = "degraded"  # errors below the down threshold, or behind the best head
    DOWN = "down"  # unreachable / failing, or bad for good (wrong chain)


@dataclass
class EndpointHealth:
    """One endpoint's health, as node monitors and metrics see it (``url`` is redacted; ``name`` is the
    endpoint's name in network.yaml — the metric label — or the redacted URL when none was given)."""

    network: str
    url: str
    name: str = ""
    state: EndpointState = EndpointState.HEALTHY
    latency_ewma: float | None = None  # seconds
    consecutive_errors: int = 0
    last_head: int | None = None
    last_error: str | None = None
    last_ok_at: float | None = None  # clock.monotonic() of the last success
    retry_at: float = 0.0  # a resting endpoint is not used before this monotonic time
    bad_reason: str | None = None  # set for good (e.g. wrong chain id): never used again
    chain_verified: bool = False
    requests: int = 0
    errors: int = 0


class Endpoint:
    def __init__(self, *, client: RpcClient, health: EndpointHealth) -> None:
        self.client = client
        self.health = health
        self.block_receipts = True  # eth_getBlockReceipts supported, until the node says otherwise
        self.isolated = False  # set by the emergency 'isolate' action: never used while set


class RpcPool:
    def __init__(
        self,
        *,
        network: str,
        urls: Sequence[str],
        clock: Clock,
        names: Sequence[str] | None = None,
        chain_id: int | None = None,
        timeout: float = 10.0,
        max_lag_blocks: int = 5,
        down_after: int = 3,
        backoff_base: float = 0.1,
        backoff_max: float = 5.0,
        max_rounds: int = 4,
        ewma_alpha: float = 0.3,
        metrics: Metrics | None = None,
    ) -> None:
        if not urls:
            raise ConfigError(f"Network '{network}' has no RPC endpoints; give at least one rpc url.")
        if names is not None and len(names) != len(urls):
            raise ConfigError(f"Network '{network}': {len(names)} endpoint names for {len(urls)} urls.")
        self.network = network
        self.chain_id = chain_id
        self._clock = clock
        self.max_lag_blocks = max_lag_blocks
        self._down_after = down_after
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._max_rounds = max_rounds
        self._alpha = ewma_alpha
        self._metrics = metrics
        self.endpoints = [
            Endpoint(
                client=(client := RpcClient(url=url, timeout=timeout)),
                health=EndpointHealth(
                    network=network, url=client.label, name=names[i] if names else client.label
                ),
            )
            for i, url in enumerate(urls)
        ]
        self.best_head = 0

    # -- life cycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Check every endpoint (reachable, right chain id). Raises ChainError if none is usable."""
        if self.chain_id is None:
            self.chain_id = await self._reference_chain_id()
        await self.refresh_heads()
        if not any(self._usable(ep) for ep in self.endpoints):
            problems = "; ".join(
                f"'{ep.health.url}': {ep.health.bad_reason or ep.health.last_error}" for ep in self.endpoints
            )
            raise ChainError(f"No usable RPC endpoint for network '{self.network}': {problems}")

    async def _reference_chain_id(self) -> int | None:
        """Without a configured chain id, the first *listed* endpoint that answers is authoritative —
        never whichever happens to answer first (the probes run concurrently)."""
        for ep in self.endpoints:
            try:
                return int(await ep.client.call("eth_chainId"), 16)
            except (RpcError, ValueError, TypeError):
                continue
        return None

    async def aclose(self) -> None:
        for ep in self.endpoints:
            await ep.client.aclose()

    def health(self) -> list[EndpointHealth]:
        """Snapshot of every endpoint's health record."""
        return [replace(ep.health) for ep in self.endpoints]

    # -- health bookkeeping -----------------------------------------------------------------------

    def set_isolated(self, index: int, isolated: bool) -> None:
        """Stop (or resume) using endpoint ``index`` (the emergency action "isolate a component")."""
        self.endpoints[index].isolated = isolated

    def _usable(self, ep: Endpoint) -> bool:
        return (
            ep.health.bad_reason is None
            and ep.health.chain_verified
            and ep.health.state != "down"
            and not ep.isolated
        )

    def _backoff(self, errors: int) -> float:
        return float(min(self._backoff_base * 2 ** max(errors - 1, 0), self._backoff_max))

    def _ok(self, ep: Endpoint, started: float) -> None:
        h = ep.health
        now = self._clock.monotonic()
        elapsed = max(now - started, 0.0)
        h.latency_ewma = (
            elapsed
            if h.latency_ewma is None
            else h.latency_ewma * (1 - self._alpha) + (elapsed * self._alpha)
        )
        h.requests += 1
        h.consecutive_errors = 0
        h.last_ok_at = now
        h.retry_at = 0.0
        h.state = EndpointState.HEALTHY
        self._mark_lag(ep)
        if self._metrics is not None:
            self._metrics.rpc_latency_seconds.labels(self.network, h.name).observe(elapsed)
            self._metrics.endpoint_up.labels(self.network, h.name).set(1)

    def _mark_lag(self, ep: Endpoint) -> None:
        h = ep.health
        if h.state == EndpointState.DOWN or h.last_head is None:
            return
        behind = self.best_head - h.last_head
        if behind > self.max_lag_blocks:
            h.state = EndpointState.DEGRADED
            h.last_error = f"behind the best head by {behind} blocks (limit {self.max_lag_blocks})"
        elif h.consecutive_errors == 0:
            h.state = EndpointState.HEALTHY

    def _failed(self, ep: Endpoint, error: str) -> None:
        h = ep.health
        h.requests += 1
        h.errors += 1
        h.consecutive_errors += 1
        h.last_error = error
        h.state = EndpointState.DOWN if h.consecutive_errors >= self._down_after else EndpointState.DEGRADED
        h.retry_at = self._clock.monotonic() + self._backoff(h.consecutive_errors)
        if self._metrics is not None:
            self._metrics.rpc_errors.labels(self.network, h.name).inc()
            self._metrics.endpoint_up.labels(self.network, h.name).set(
                1 if h.state != EndpointState.DOWN else 0
            )

    def _mark_bad(self, ep: Endpoint, reason: str) -> None:
        ep.health.bad_reason = reason
        ep.health.last_error = reason
        ep.health.state = EndpointState.DOWN
        if self._metrics is not None:
            self._metrics.endpoint_up.labels(self.network, ep.health.name).set(0)

    # -- heads ------------------------------------------------------------------------------------

    async def _probe(self, ep: Endpoint) -> None:
        started = self._clock.monotonic()
        try:
            if ep.health.chain_verified:
                head_hex = await ep.client.call("eth_blockNumber")
            else:
                chain_hex, head_hex = await ep.client.batch([("eth_chainId", []), ("eth_blockNumber", [])])
                chain_id = int(chain_hex, 16)
                if self.chain_id is None:
                    self.chain_id = chain_id
                if chain_id != self.chain_id:
                    self._mark_bad(
                        ep,
                        f"endpoint '{ep.health.url}' is on chain id {chain_id}, but network "
                        f"'{self.network}' is chain id {self.chain_id}; fix its rpc url",
                    )
                    return
                ep.health.chain_verified = True
            ep.health.last_head = int(head_hex, 16)
        except (RpcError, ValueError, TypeError) as exc:
            self._failed(ep, exc.user_message if isinstance(exc, RpcError) else f"bad answer: {exc}")
            return
        self.best_head = max(self.best_head, ep.health.last_head)
        self._ok(ep, started)

    async def refresh_heads(self) -> int:
        """Ask every endpoint (except bad ones and resting ones) for its head; return the best head."""
        now = self._clock.monotonic()
        targets = [
            ep
            for ep in self.endpoints
            if ep.health.bad_reason is None and ep.health.retry_at <= now and not ep.isolated
        ]
        await asyncio.gather(*(self._probe(ep) for ep in targets))
        for ep in self.endpoints:
            self._mark_lag(ep)
        if not any(self._usable(ep) for ep in self.endpoints):
            raise self._all_failed("eth_blockNumber")
        return self.best_head

    # -- failover ---------------------------------------------------------------------------------

    def _candidates(self, *, tried: set[int]) -> list[Endpoint]:
        now = self._clock.monotonic()
        ready = [
            ep
            for ep in self.endpoints
            if ep.health.bad_reason is None
            and ep.health.chain_verified
            and id(ep) not in tried
            and not ep.isolated
            and (ep.health.state != EndpointState.DOWN or ep.health.retry_at <= now)
        ]
        return sorted(ready, key=lambda ep: (_STATE_RANK[ep.health.state], ep.health.latency_ewma or 0.0))

    def _all_failed(self, what: str) -> RpcError:
        problems = "; ".join(
            f"'{ep.health.url}': {ep.health.bad_reason or ep.health.last_error or 'not tried'}"
            for ep in self.endpoints
        )
        return RpcError(f"Every RPC endpoint of network '{self.network}' failed {what}: {problems}")

    async def run(self, op: Callable[[Endpoint], Awaitable[T]], *, what: str) -> T:
        """Run ``op`` on the best endpoint, failing over on RpcError; RpcError when all rounds fail."""
        for round_no in range(self._max_rounds):
            tried: set[int] = set()
            while candidates := self._candidates(tried=tried):
                ep = candidates[0]
                tried.add(id(ep))
                started = self._clock.monotonic()
                try:
                    result = await op(ep)
                except (RpcMethodMissing, CallReverted):
                    self._ok(ep, started)  # the endpoint answered; the answer is an error
                    raise
                except RpcError as exc:
                    self._failed(ep, exc.user_message)
                    continue
                self._ok(ep, started)
                return result
            if round_no + 1 < self._max_rounds:
                waits = [ep.health.retry_at for ep in self.endpoints if ep.health.bad_reason is None]
                now = self._clock.monotonic()
                delay = min((w - now for w in waits), default=self._backoff_base)
                await self._clock.sleep(min(max(delay, self._backoff_base), self._backoff_max))
        raise self._all_failed(what)

    async def call(self, method: str, params: list[Any] | None = None) -> Any:
        return await self.run(lambda ep: ep.client.call(method, params), what=method)

    async def batch(self, calls: Sequence[Call], *, reverts_as_values: bool = False) -> list[Any]:
        """One JSON-RPC batch on the best endpoint; see :meth:`RpcClient.batch` for ``reverts_as_values``."""
        return await self.run(
            lambda ep: ep.client.batch(calls, reverts_as_values=reverts_as_values),
            what=f"a batch of {len(calls)}",
        )
