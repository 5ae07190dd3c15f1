"""A pool of RPC endpoints for one network, with health records and failover.

Each endpoint keeps an :class:`EndpointHealth` (latency EWMA, consecutive errors, last head, last
error, state). :meth:`RpcPool.run` sends an operation to the best endpoint (healthy before degraded,
then lowest latency; never one marked bad or resting after errors) and fails over to the next on an
error or timeout, with exponential backoff once every endpoint has failed in a round. An endpoint more
than ``max_lag_blocks`` behind the best head seen is degraded and avoided while a better one exists.
An endpoint on the wrong chain id is marked bad for good, with the reason in its record.

A hung endpoint (accepts, never answers) never holds the pool up: head probes run per endpoint with a
short deadline (``probe_timeout``) and :meth:`RpcPool.refresh_heads` returns once the fastest usable
endpoint answered (a probe still running goes on in the background and updates its record when it
ends; no second probe is started meanwhile). :meth:`RpcPool.run` hedges: when the chosen endpoint has
not answered within ``hedge_after`` (at least ``hedge_min``, else four times its usual latency), the
same request goes to the next endpoint and the first answer wins; the other request is cancelled and
its endpoint noted as slow. State reads at a block the nodes no longer keep fall back to the head
(:mod:`fictra.chain.statereads`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, TypeVar

from fictra.chain.rpc import Call, CallReverted, RpcClient, RpcMethodMissing, StateUnavailable
from fictra.chain.stateprefetch import StatePrefetch
from fictra.chain.statereads import (
    IN_BATCH,
    STATE_METHODS,
    StateGaps,
    StateReads,
    at_latest,
    block_of,
    fallback_note,
)
from fictra.clock import Clock
from fictra.errors import ChainError, ConfigError, RpcError
from fictra.metrics import Metrics

T = TypeVar("T")
log = logging.getLogger(__name__)
_STATE_RANK = {"healthy": 0, "degraded": 1, "down": 2}


ZERO_ADDRESS = "0x" + "00" * 20


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
        self.archive: bool | None = None  # keeps old state (None: not known; see RpcPool.probe_archive)
        self.probing: asyncio.Task[None] | None = None  # the head probe in flight, if any


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
        probe_timeout: float = 2.0,
        hedge_min: float = 0.5,
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
        self._timeout = timeout
        self.probe_timeout = min(probe_timeout, timeout)
        self.hedge_min = hedge_min
        self.state_gaps = StateGaps()
        self.state_prefetch = StatePrefetch()
        self.notes: list[str] = []  # start-up findings the user should see (e.g. not an archive node)
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
        self.notes = await self.probe_archive()
        for note in self.notes:
            log.warning("%s", note)

    async def _reference_chain_id(self) -> int | None:
        """Without a configured chain id, the first *listed* endpoint that answers is authoritative —
        never whichever happens to answer first (the probes run concurrently)."""
        for ep in self.endpoints:
            try:
                return int(await ep.client.call("eth_chainId", deadline=self.probe_timeout), 16)
            except (RpcError, ValueError, TypeError):
                continue
        return None

    async def aclose(self) -> None:
        probes = [ep.probing for ep in self.endpoints if ep.probing is not None]
        for task in probes:
            task.cancel()
        await asyncio.gather(*probes, return_exceptions=True)
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
                head_hex = await ep.client.call("eth_blockNumber", deadline=self.probe_timeout)
            else:
                chain_hex, head_hex = await ep.client.batch(
                    [("eth_chainId", []), ("eth_blockNumber", [])], deadline=self.probe_timeout
                )
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
        """Ask every endpoint (except bad, resting and isolated ones) for its head; return the best head.

        Returns as soon as every probe ended or, once a usable endpoint answered, after a short grace
        for the others (twice the fastest answer, at least 20 ms): a hung endpoint's probe goes on in the
        background until its deadline and is not started again while it runs."""
        now = self._clock.monotonic()
        for ep in self.endpoints:
            if ep.health.bad_reason is None and ep.health.retry_at <= now and not ep.isolated:
                if ep.probing is None or ep.probing.done():
                    ep.probing = asyncio.ensure_future(self._probe(ep))
        waiting = {ep.probing for ep in self.endpoints if ep.probing is not None and not ep.probing.done()}
        started = asyncio.get_running_loop().time()
        answered_at: float | None = None
        while waiting:
            timeout = None
            if answered_at is not None:
                grace = max(2 * (answered_at - started), 0.02)
                timeout = max(answered_at + grace - asyncio.get_running_loop().time(), 0.0)
            done, waiting = await asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            if not done:
                break  # the grace is over: the rest report in the background
            if answered_at is None and any(self._usable(ep) for ep in self.endpoints if ep.probing in done):
                answered_at = asyncio.get_running_loop().time()
        for ep in self.endpoints:
            self._mark_lag(ep)
        if not any(self._usable(ep) for ep in self.endpoints):
            raise self._all_failed("eth_blockNumber")
        return self.best_head

    async def probe_archive(self) -> list[str]:
        """Ask every usable endpoint for the state of block 1 (once the chain is long enough for a
        pruning node to have dropped it); returns one line per endpoint that does not keep old state."""
        notes: list[str] = []
        if self.best_head < 256:
            return notes  # too young a chain to tell an archive node from a pruning one
        for ep in [e for e in self.endpoints if self._usable(e)]:
            try:
                await ep.client.call("eth_getBalance", [ZERO_ADDRESS, "0x1"], deadline=self.probe_timeout)
            except StateUnavailable as exc:
                ep.archive = False
                notes.append(
                    f"RPC endpoint '{ep.health.name}' of network '{self.network}' is not an archive node "
                    f"(no state for block 1: {exc.user_message[-80:]}). Monitors reading contract state "
                    "during a long catch-up read it at the head instead (findings say so)."
                )
            except RpcError:
                continue
            else:
                ep.archive = True
        return notes

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

    def _launch(
        self,
        op: Callable[[Endpoint], Awaitable[T]],
        ep: Endpoint,
        tried: set[int],
        running: dict[asyncio.Task[T], tuple[Endpoint, float]],
    ) -> None:
        tried.add(id(ep))
        running[asyncio.ensure_future(op(ep))] = (ep, self._clock.monotonic())

    def _hedge_delay(self, ep: Endpoint) -> float:
        usual = ep.health.latency_ewma or 0.0
        return float(min(max(self.hedge_min, 4 * usual), self._timeout))

    async def run(self, op: Callable[[Endpoint], Awaitable[T]], *, what: str) -> T:
        """Run ``op`` on the best endpoint, failing over on RpcError and hedging to the next endpoint
        when the first is slow; RpcError when all rounds fail, StateUnavailable when every endpoint
        answered that it does not keep the state asked for."""
        for round_no in range(self._max_rounds):
            tried: set[int] = set()
            unavailable: StateUnavailable | None = None
            running: dict[asyncio.Task[T], tuple[Endpoint, float]] = {}

            try:
                while True:
                    if not running:
                        candidates = self._candidates(tried=tried)
                        if not candidates:
                            break
                        self._launch(op, candidates[0], tried, running)
                    hedge = None
                    if len(running) == 1 and self._candidates(tried=tried):
                        hedge = self._hedge_delay(next(iter(running.values()))[0])
                    done, _ = await asyncio.wait(running, timeout=hedge, return_when=asyncio.FIRST_COMPLETED)
                    if not done:  # slow: the same request to the next endpoint (if one is left)
                        for ep in self._candidates(tried=tried)[:1]:
                            self._launch(op, ep, tried, running)
                        continue
                    for task in done:
                        ep, started = running.pop(task)
                        try:
                            result = task.result()
                        except (RpcMethodMissing, CallReverted):
                            self._ok(ep, started)  # the endpoint answered; the answer is an error
                            raise
                        except StateUnavailable as exc:
                            self._ok(ep, started)  # answered: it just does not keep that state
                            unavailable = exc
                            continue
                        except RpcError as exc:
                            self._failed(ep, exc.user_message)
                            continue
                        self._ok(ep, started)
                        for slow, (other, _) in running.items():
                            slow.cancel()
                            self._failed(other, f"no answer to {what} in time; another endpoint answered")
                        return result
            finally:
                for task in running:
                    task.cancel()
                if running:
                    await asyncio.gather(*running, return_exceptions=True)
            if unavailable is not None:
                raise unavailable
            if round_no + 1 < self._max_rounds:
                waits = [ep.health.retry_at for ep in self.endpoints if ep.health.bad_reason is None]
                now = self._clock.monotonic()
                delay = min((w - now for w in waits), default=self._backoff_base)
                await self._clock.sleep(min(max(delay, self._backoff_base), self._backoff_max))
        raise self._all_failed(what)

    async def call(self, method: str, params: list[Any] | None = None) -> Any:
        if IN_BATCH.get() and method in STATE_METHODS:  # inside the follower's batch: never wedge
            return (await self.read_state([(method, params or [])], reverts_as_values=False)).answers[0]
        return await self.run(lambda ep: ep.client.call(method, params), what=method)

    async def batch(self, calls: Sequence[Call], *, reverts_as_values: bool = False) -> list[Any]:
        """One JSON-RPC batch on the best endpoint; see :meth:`RpcClient.batch` for ``reverts_as_values``.
        StateUnavailable when no endpoint keeps the state asked for — except inside the follower's
        batch (:data:`~fictra.chain.statereads.IN_BATCH`), where :meth:`read_state`'s policy applies."""
        if IN_BATCH.get():
            return (await self.read_state(calls, reverts_as_values=reverts_as_values)).answers
        return await self._batch(calls, reverts_as_values)

    async def _batch(self, calls: Sequence[Call], reverts_as_values: bool) -> list[Any]:
        return await self.run(
            lambda ep: ep.client.batch(calls, reverts_as_values=reverts_as_values),
            what=f"a batch of {len(calls)}",
        )

    async def prefetch_state(self, block: int, block_hash: str) -> None:
        """Send the state reads learnt from earlier batches for ``block`` (see
        :mod:`fictra.chain.stateprefetch`) to the best endpoint, outside the health bookkeeping; a
        failure only means the batch reads as usual (three in a row turn prefetching off)."""
        calls, keys = self.state_prefetch.calls_for(block, block_hash)
        candidates = self._candidates(tried=set())
        if not calls or not candidates or block <= self.state_gaps.floor or self.state_prefetch.off:
            return
        try:
            answers = await candidates[0].client.batch(calls, reverts_as_values=True, deadline=self._timeout)
        except RpcError as exc:
            self.state_prefetch.failed(exc.user_message)
            return
        self.state_prefetch.store(block, block_hash, keys, answers)

    async def read_state(self, calls: Sequence[Call], *, reverts_as_values: bool = True) -> StateReads:
        """``calls`` (state reads at an explicit block) with the fall-back policy: when no endpoint keeps
        the block's state, the same calls at the head; the gap is recorded in :attr:`state_gaps` and the
        result's ``note`` marks findings made from it."""
        block = block_of(calls)
        hashes = IN_BATCH.get()
        if hashes and block in hashes and reverts_as_values and block is not None:
            self.state_prefetch.learn(calls, block)
            prefetched = self.state_prefetch.take(calls, block, hashes[block])
            if prefetched is not None:
                return StateReads(prefetched, block)
        if block is None or block > self.state_gaps.floor:
            try:
                return StateReads(await self._batch(calls, reverts_as_values), block)
            except StateUnavailable as exc:
                if block is not None and block >= self.best_head:
                    await self.refresh_heads()  # the head seen may be old: is the block really new?
                if block is None or block >= self.best_head:
                    raise RpcError(f"{exc.user_message} (block {block} is not on the nodes yet)") from None
                error = exc.user_message
        else:
            error = self.state_gaps.last_error or "state not kept"
        head = self.best_head
        answers = await self._batch(at_latest(calls), reverts_as_values)
        if self.state_gaps.fallbacks == 0:
            log.warning(
                "network %s: no endpoint keeps the state of block %d; state reads fall back to the head "
                "(%d) while catching up (not an archive node?)",
                self.network,
                block,
                head,
            )
        self.state_gaps.record(block, error)
        return StateReads(
            answers, block, read_at_head=head, error=error, note=fallback_note(block, head, error)
        )
