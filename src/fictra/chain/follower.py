"""The chain follower: RPC pool -> consistent, checkpointed :class:`BlockBatch` values.

``Follower.run(stop)`` resumes from the network's checkpoint (or ``start_block`` / the manifest's
``deployed_block`` / the current head on first start), catches up with pipelined batched fetches
(``prefetch`` batches in flight while one is processed) and then follows the head, woken by websocket
newHeads and by polling. Each batch goes to ``on_batch(batch, session)`` inside the transaction that
advances the checkpoint, so the consumer's writes and the checkpoint commit together (kill -9 at any
point: no gap, no duplicate). A block whose parent is not the last processed block means a reorg: the
follower walks back through the recent hashes to the common ancestor, calls ``on_reorg(reorg,
session)`` in the transaction that rewinds the checkpoint and records the reorg, then follows the new
branch. A consumer exception rolls its transaction back and ends ``run`` with that exception. When
every endpoint fails (an RpcError from the pool), ``run`` logs it, waits (doubling up to
``outage_retry_max``) and carries on from the checkpoint: an outage delays blocks, never loses them.

State reads at a block the nodes no longer keep fall back to the head (see
:mod:`fictra.chain.statereads`), so a long catch-up on a non-archive node never wedges; the gaps show
in :meth:`Follower.status`. :meth:`Follower.stall` reports a follower that made no checkpoint progress
for ``stall_after`` seconds (injected clock) while the head moved on — the follower-stall monitor
raises it as an alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.chain import checkpoint as cp
from fictra.chain.fetch import fetch_blocks, fetch_hashes
from fictra.chain.heads import watch_new_heads, ws_url_for
from fictra.chain.manifest import Manifest
from fictra.chain.pool import EndpointHealth, RpcPool
from fictra.chain.reorg import find_reorg
from fictra.chain.statereads import IN_BATCH
from fictra.chain.types import Block, BlockBatch, Reorg
from fictra.clock import Clock
from fictra.errors import ChainError, ConfigError, RpcError
from fictra.metrics import Metrics

log = logging.getLogger(__name__)

OnBatch = Callable[[BlockBatch, AsyncSession], Awaitable[None]]
OnReorg = Callable[[Reorg, AsyncSession], Awaitable[None]]
Fetched = tuple[list[Block], float]


@dataclass(frozen=True)
class Stall:
    """No checkpoint progress for ``seconds`` while the head moved from ``head_then`` to ``head``."""

    network: str
    seconds: float
    last_block: int | None
    head_then: int
    head: int
    last_error: str | None


@dataclass(frozen=True)
class FollowerStatus:
    """What node monitors, the API and metrics read about one follower."""

    network: str
    last_block: int | None
    last_hash: str | None
    head: int
    lag: int
    counters: dict[str, int] = field(default_factory=dict)
    endpoints: list[EndpointHealth] = field(default_factory=list)
    state_gaps: dict[str, object] = field(default_factory=dict)


class Follower:
    def __init__(
        self,
        *,
        network: str,
        pool: RpcPool,
        sessions: async_sessionmaker[AsyncSession],
        on_batch: OnBatch,
        clock: Clock,
        on_reorg: OnReorg | None = None,
        start_block: int | None = None,
        manifest: Manifest | None = None,
        batch_size: int = 50,
        prefetch: int = 3,
        keep_hashes: int = 128,
        poll_interval: float = 0.5,
        subscribe: bool = True,
        ws_urls: list[str] | None = None,
        head_refresh: float = 2.0,
        outage_retry_max: float = 30.0,
        metrics: Metrics | None = None,
        stall_after: float = 60.0,
    ) -> None:
        if batch_size < 1 or prefetch < 1 or keep_hashes < 2:
            raise ConfigError(
                f"Follower of '{network}': batch_size ({batch_size}) and prefetch ({prefetch}) must be "
                f">= 1 and keep_hashes ({keep_hashes}) >= 2."
            )
        self.network = network
        self.pool = pool
        self._sessions = sessions
        self._on_batch = on_batch
        self._on_reorg = on_reorg
        self._clock = clock
        self._start_block = (
            start_block
            if start_block is not None
            else (manifest.deployed_block if manifest is not None else None)
        )
        self.batch_size = batch_size
        self.prefetch = prefetch
        self.keep_hashes = keep_hashes
        self.poll_interval = poll_interval
        self._subscribe = subscribe
        self.head_refresh = head_refresh
        self.outage_retry_max = outage_retry_max
        self._metrics = metrics
        self._refreshed_at = 0.0
        self.stall_after = stall_after
        self._progress_at: float | None = None  # clock.monotonic() of the last checkpoint change
        self._head_at_progress = 0  # the best head when the checkpoint last changed
        self.last_error: str | None = None  # the last outage's message (cleared by progress)
        self._ws_urls = ws_urls or [ws_url_for(ep.client.url) for ep in pool.endpoints]
        self._new_head = asyncio.Event()
        self.checkpoint: cp.Checkpoint | None = None
        self._hashes: dict[int, str] = {}
        self._next: int | None = None
        # seconds from a head block's arrival to its batch committed (alerts stored), most recent last
        self.head_latencies: deque[float] = deque(maxlen=10_000)
        self.counters: dict[str, int] = {
            "blocks": 0,
            "txs": 0,
            "batches": 0,
            "reorgs": 0,
            "reorged_blocks": 0,
            "rpc_outages": 0,
        }

    # -- public state -----------------------------------------------------------------------------

    @property
    def lag(self) -> int:
        """Blocks between the best head seen and the last processed block."""
        done = self.checkpoint.number if self.checkpoint else (self._next or 0) - 1
        return max(self.pool.best_head - done, 0)

    def status(self) -> FollowerStatus:
        gaps = self.pool.state_gaps
        return FollowerStatus(
            network=self.network,
            last_block=self.checkpoint.number if self.checkpoint else None,
            last_hash=self.checkpoint.hash if self.checkpoint else None,
            head=self.pool.best_head,
            lag=self.lag,
            counters={**self.counters, "state_fallbacks": gaps.fallbacks},
            endpoints=self.pool.health(),
            state_gaps=gaps.as_dict() if gaps.fallbacks else {},
        )

    def _progressed(self) -> None:
        self._progress_at = self._clock.monotonic()
        self._head_at_progress = self.pool.best_head
        self.last_error = None

    def stall(self) -> Stall | None:
        """A :class:`Stall` when the checkpoint has not moved for ``stall_after`` seconds while the head
        moved past it; None otherwise (also before :meth:`run` started, and at the head)."""
        if self._progress_at is None:
            return None
        idle = self._clock.monotonic() - self._progress_at
        done = self.checkpoint.number if self.checkpoint else (self._next or 0) - 1
        head = self.pool.best_head
        if idle < self.stall_after or head <= self._head_at_progress or head <= done:
            return None
        return Stall(
            network=self.network,
            seconds=idle,
            last_block=self.checkpoint.number if self.checkpoint else None,
            head_then=self._head_at_progress,
            head=head,
            last_error=self.last_error,
        )

    async def _refresh_head(self) -> int:
        head = await self.pool.refresh_heads()
        self._refreshed_at = self._clock.monotonic()
        if self._metrics is not None:
            self._metrics.follower_head.labels(self.network).set(head)
            self._metrics.follower_lag_blocks.labels(self.network).set(self.lag)
        return head

    # -- life cycle -------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the chain until ``stop`` is set. Returns cleanly; consumer errors propagate."""
        async with self._sessions() as session:
            self.checkpoint = await cp.load_checkpoint(session, network=self.network)
            self._hashes = await cp.load_hashes(session, network=self.network)
        self._progressed()
        watcher = None
        if self._subscribe:
            watcher = asyncio.create_task(
                watch_new_heads(urls=self._ws_urls, on_head=self._heard_head, clock=self._clock)
            )
        outage_wait = self.poll_interval
        try:
            while not stop.is_set():
                try:
                    await self._step(stop)
                except RpcError as exc:
                    self.counters["rpc_outages"] += 1
                    self.last_error = exc.user_message
                    log.warning(
                        "network %s: %s; retrying in %.1fs", self.network, exc.user_message, outage_wait
                    )
                    await self._wait_for_head(stop, seconds=outage_wait)
                    outage_wait = min(outage_wait * 2, self.outage_retry_max)
                else:
                    outage_wait = self.poll_interval
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    async def _step(self, stop: asyncio.Event) -> None:
        head = await self._refresh_head()
        if self._next is None:
            self._next = self.checkpoint.number + 1 if self.checkpoint else self._first_block(head)
        if self._next <= head:
            await self._catch_up(head, stop)
        elif not await self._tip_moved():
            await self._wait_for_head(stop, seconds=self.poll_interval)

    def _first_block(self, head: int) -> int:
        start = head if self._start_block is None else self._start_block
        if start < 0:
            raise ConfigError(f"Follower of '{self.network}': start_block {start} is negative.")
        log.info("network %s: first start, following from block %d", self.network, start)
        return start

    def _heard_head(self, number: int, block_hash: str) -> None:
        self._new_head.set()

    async def _wait_for_head(self, stop: asyncio.Event, *, seconds: float) -> None:
        """Wait for a new head (websocket), ``stop`` or ``seconds``, whichever comes first."""
        waiters = [
            asyncio.ensure_future(stop.wait()),
            asyncio.ensure_future(self._new_head.wait()),
            asyncio.ensure_future(self._clock.sleep(seconds)),
        ]
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            self._new_head.clear()

    async def _tip_moved(self) -> bool:
        """At the head: True (after handling it) when our last block is no longer canonical."""
        if self.checkpoint is None:
            return False
        canonical = (await fetch_hashes(self.pool, [self.checkpoint.number]))[self.checkpoint.number]
        if canonical is None or canonical == self.checkpoint.hash:
            return False  # None: this endpoint has not got our block (behind); never guess a reorg
        await self._handle_reorg(detected_at=self.checkpoint.number)
        return True

    # -- catch-up pipeline ------------------------------------------------------------------------

    async def _fetch(self, first: int, last: int) -> Fetched:
        blocks = await fetch_blocks(self.pool, first=first, last=last)
        received = self._clock.monotonic()
        if blocks:  # the monitors' state reads for this batch, sent while earlier batches are processed
            await self.pool.prefetch_state(blocks[-1].number, blocks[-1].hash)
        return blocks, received

    async def _catch_up(self, target: int, stop: asyncio.Event) -> None:
        if self._next is None:
            return
        pending: deque[asyncio.Task[Fetched]] = deque()
        next_fetch = self._next
        try:
            while not stop.is_set():
                while len(pending) < self.prefetch and next_fetch <= target:
                    last = min(next_fetch + self.batch_size - 1, target)
                    pending.append(asyncio.create_task(self._fetch(next_fetch, last)))
                    next_fetch = last + 1
                if not pending:
                    return
                if self._clock.monotonic() - self._refreshed_at >= self.head_refresh:
                    target = max(target, await self._refresh_head())  # long catch-up: follow the head
                blocks, received_at = await pending.popleft()
                head = max(target, self.pool.best_head)
                at_head = not pending and blocks[-1].number >= head
                if not await self._process(blocks, head=head, at_head=at_head, received_at=received_at):
                    return
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    async def _process(self, blocks: list[Block], *, head: int, at_head: bool, received_at: float) -> bool:
        """Hand ``blocks`` to the consumer and advance the checkpoint; False when the chain moved."""
        previous = self.checkpoint
        parent = previous.hash if previous else None
        for index, block in enumerate(blocks):
            if self._next is not None and index == 0 and block.number != self._next:
                raise ChainError(
                    f"Network '{self.network}': got block {block.number}, expected {self._next}."
                )
            if parent is not None and block.parent_hash != parent:
                if index == 0:
                    await self._handle_reorg(detected_at=block.number)
                else:  # mid-batch: the chain changed while fetching; refetch from the checkpoint
                    await self._clock.sleep(self.poll_interval)
                return False
            parent = block.hash
        batch = BlockBatch(self.network, tuple(blocks), head=head, at_head=at_head, received_at=received_at)
        in_batch = IN_BATCH.set({b.number: b.hash for b in blocks})  # state reads: never wedge
        try:
            async with self._sessions() as session, session.begin():
                await self._on_batch(batch, session)
                new = await cp.advance(
                    session,
                    network=self.network,
                    previous=previous,
                    blocks=blocks,
                    keep=self.keep_hashes,
                    now=self._clock.now(),
                )
        finally:
            IN_BATCH.reset(in_batch)
        if at_head:  # block arrival -> monitors ran -> alerts and checkpoint committed
            stored = self._clock.monotonic() - received_at
            self.head_latencies.append(stored)
            if self._metrics is not None:
                self._metrics.block_to_alert_seconds.labels(self.network).observe(stored)
        self.checkpoint = new
        self._progressed()
        self._next = new.number + 1
        for block in blocks:
            self._hashes[block.number] = block.hash
        for number in [n for n in self._hashes if n <= new.number - self.keep_hashes]:
            del self._hashes[number]
        self.counters["blocks"] += len(blocks)
        self.counters["txs"] += sum(len(b.txs) for b in blocks)
        self.counters["batches"] += 1
        if self._metrics is not None:
            net = self.network
            self._metrics.blocks_processed.labels(net).inc(len(blocks))
            self._metrics.transactions_processed.labels(net).inc(sum(len(b.txs) for b in blocks))
            self._metrics.follower_processed_block.labels(net).set(new.number)
            self._metrics.follower_lag_blocks.labels(net).set(self.lag)
        return True

    # -- reorgs -----------------------------------------------------------------------------------

    async def _handle_reorg(self, *, detected_at: int) -> None:
        previous = self.checkpoint
        if previous is None:
            return
        reorg = await find_reorg(
            self.pool, network=self.network, hashes=self._hashes, tip=previous.number, detected_at=detected_at
        )
        if reorg is None:  # our tip is canonical after all: endpoints disagreed for a moment
            await self._clock.sleep(self.poll_interval)
            return
        ancestor = cp.Checkpoint(self.network, reorg.common_ancestor, self._hashes[reorg.common_ancestor])
        async with self._sessions() as session, session.begin():
            if self._on_reorg is not None:
                await self._on_reorg(reorg, session)
            await cp.rewind(session, previous=previous, ancestor=ancestor, reorg=reorg, now=self._clock.now())
        log.warning(
            "network %s: reorg of depth %d after block %d", self.network, reorg.depth, reorg.common_ancestor
        )
        self.checkpoint = ancestor
        self._progressed()
        self._next = ancestor.number + 1
        for number in [n for n in self._hashes if n > ancestor.number]:
            del self._hashes[number]
        self.counters["reorgs"] += 1
        self.counters["reorged_blocks"] += reorg.depth
        if self._metrics is not None:
            self._metrics.reorgs.labels(self.network).inc()
            self._metrics.reorg_depth.labels(self.network).observe(reorg.depth)
