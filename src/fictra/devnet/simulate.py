"""Realistic background activity on the devnet (``fictra devnet simulate``).

Oracle rounds, PT settlements between traders, pool swaps, FT issuance and transfers between
sovereigns, reserve deposits and withdrawals (see :mod:`fictra.devnet.activities`), started at
``rate`` transactions per second for ``duration`` seconds or until stopped. Every random choice comes
from one generator seeded with ``seed`` (each activity gets its own child generator, drawn in order),
so two runs with the same seed make the same choices. Scenarios in force are respected: a stalled
feed is skipped, token activity pauses while contracts are paused or trading is halted, and reserve
movements stop during a reserve drain.

A transaction dropped by a reorg fails its step at once (:class:`~fictra.devnet.chainutil.TxDropped`,
counted in ``dropped``) and the simulator carries on. When nothing in flight completes for
``STALL_S`` seconds the simulator reports itself stalled (``SimStats.stalled_for``, a warning in the
log; the live view of ``fictra up`` shows it) and says when it resumes. On ``stop``, what is in flight
gets ``STOP_GRACE_S`` to finish and is then cancelled: stopping never waits on a receipt (at the end of
``duration`` everything in flight finishes).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from fictra.clock import Clock, SystemClock
from fictra.devnet.activities import KINDS, STEPS, TOKEN_KINDS, WEIGHTS, Skipped, World
from fictra.devnet.chainutil import DevChain, TxDropped
from fictra.devnet.scenarios.store import ScenarioStore
from fictra.errors import ContractError, DevnetError, FictraError

MAX_IN_FLIGHT = 16
LIVE_CHECK_S = 2.0
STALL_S = 30.0  # nothing in flight completed for this long: the simulator is stalled
STOP_GRACE_S = 3.0
log = logging.getLogger(__name__)


@dataclass
class SimStats:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    start_block: int = 0
    head_block: int = 0
    kinds: Counter[str] = field(default_factory=Counter)  # activities that completed
    planned: Counter[str] = field(default_factory=Counter)  # activities started (seed-determined)
    errors: list[str] = field(default_factory=list)
    dropped: int = 0  # transactions dropped by a reorg (their steps failed; the simulator went on)
    stalled_for: float = 0.0  # seconds without any step completing while some are in flight (0: fine)

    @property
    def blocks(self) -> int:
        return max(0, self.head_block - self.start_block)

    def summary(self) -> str:
        """One line for the live view and the log."""
        text = f"{self.sent} tx sent, {self.failed} failed, {self.blocks} blocks"
        if self.dropped:
            text += f", {self.dropped} dropped by reorgs"
        if self.stalled_for:
            text += f", STALLED for {self.stalled_for:.0f}s (nothing completes; see the log)"
        return text

    def record_error(self, kind: str, message: str) -> None:
        self.failed += 1
        self.errors = [*self.errors[-9:], f"{kind}: {message}"]


@dataclass(frozen=True)
class SimConfig:
    rate: float = 5.0  # transactions per second (approximate)
    duration: float | None = None  # seconds; None = until stopped
    seed: int = 1
    kinds: tuple[str, ...] = KINDS

    def check(self) -> None:
        if not 0 < self.rate <= 500:
            raise DevnetError(f"--rate is {self.rate}; use a number of transactions per second in (0, 500].")
        if self.duration is not None and self.duration <= 0:
            raise DevnetError(f"--duration is {self.duration}; use a positive number of seconds.")
        unknown = sorted(set(self.kinds) - set(KINDS))
        if unknown:
            raise DevnetError(f"Unknown activity kind(s) {', '.join(unknown)}. Known: {', '.join(KINDS)}.")


class Simulator:
    def __init__(
        self,
        chain: DevChain,
        *,
        config: SimConfig,
        store: ScenarioStore | None = None,
        clock: Clock | None = None,
    ) -> None:
        config.check()
        self.chain = chain
        self.config = config
        self.store = store
        self.clock = clock or SystemClock()
        self.stats = SimStats()
        self._rng = random.Random(config.seed)  # noqa: S311 - reproducible load, not cryptography
        self._live = True
        self._draining = False
        self._live_checked = -LIVE_CHECK_S
        self._progress_at = self.clock.monotonic()  # a step last ended (or the run started)

    async def run(
        self, *, stop: asyncio.Event | None = None, on_tick: Callable[[SimStats], None] | None = None
    ) -> SimStats:
        """Generate activity until ``duration`` passes or ``stop`` is set; waits for what is in flight."""
        world = await World.load(self.chain, self.store)
        self.stats.start_block = self.stats.head_block = await self.chain.head()
        stop = stop or asyncio.Event()
        started = self.clock.monotonic()
        tasks: set[asyncio.Task[None]] = set()
        kinds = list(self.config.kinds)
        weights = [WEIGHTS[KINDS.index(k)] for k in kinds]
        try:
            while not stop.is_set():
                now = self.clock.monotonic()
                if self.config.duration is not None and now - started >= self.config.duration:
                    break
                await self._refresh(world, now)
                self._watch(now, in_flight=any(not t.done() for t in tasks))
                if on_tick:
                    on_tick(self.stats)
                tasks = {t for t in tasks if not t.done()}
                if len(tasks) >= MAX_IN_FLIGHT:
                    await asyncio.wait(tasks, timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
                    continue
                kind = self._rng.choices(kinds, weights)[0]
                self.stats.planned[kind] += 1
                child = random.Random(self._rng.getrandbits(64))  # noqa: S311
                tasks.add(asyncio.create_task(self._one(world, kind, child)))
                await self.clock.sleep(_typical_txs(kind) / self.config.rate)
        finally:
            if tasks:  # at the end of ``duration`` all finish; on a stop, the late ones are cancelled
                grace = STOP_GRACE_S if stop.is_set() else None
                _, late = await asyncio.wait(tasks, timeout=grace)
                for task in late:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            try:
                self.stats.head_block = await self.chain.head()
            except FictraError:
                pass
            if on_tick:
                on_tick(self.stats)
        return self.stats

    def _watch(self, now: float, *, in_flight: bool) -> None:
        """Report a stall (steps in flight, none ended for STALL_S) once, and its end."""
        idle = now - self._progress_at
        if in_flight and idle >= STALL_S:
            if not self.stats.stalled_for:
                log.warning(
                    "simulator stalled: nothing in flight completed for %.0fs (node unreachable or hung?)",
                    idle,
                )
            self.stats.stalled_for = idle
        elif self.stats.stalled_for and idle < STALL_S:
            log.warning("simulator resumed after a %.0fs stall", self.stats.stalled_for)
            self.stats.stalled_for = 0.0

    async def _refresh(self, world: World, now: float) -> None:
        if now - self._live_checked < LIVE_CHECK_S:
            return
        self._live_checked = now
        try:
            self._live = await world.tokens_live()
            self._draining = bool(self.store and self.store.get("reserve-drain") is not None)
            self.stats.head_block = await self.chain.head()
        except (FictraError, OSError, TimeoutError) as exc:  # node-down: keep trying
            self.stats.record_error("node", str(exc)[:120])

    async def _explained(self, world: World, kind: str) -> bool:
        """True when a revert is explained by a scenario that took effect meanwhile (checked now)."""
        try:
            self._live = await world.tokens_live()
        except (FictraError, OSError, TimeoutError):
            return False
        self._draining = bool(self.store and self.store.get("reserve-drain") is not None)
        return (kind in TOKEN_KINDS and not self._live) or (
            kind == "reserve" and (self._draining or not self._live)
        )

    async def _one(self, world: World, kind: str, rng: random.Random) -> None:
        try:
            await self._step(world, kind, rng)
        finally:
            self._progress_at = self.clock.monotonic()

    async def _step(self, world: World, kind: str, rng: random.Random) -> None:
        if (kind in TOKEN_KINDS and not self._live) or (
            kind == "reserve" and (self._draining or not self._live)
        ):
            self.stats.skipped += 1
            return
        try:
            sent = await STEPS[kind](world, rng)
        except Skipped:
            self.stats.skipped += 1
            return
        except TxDropped as exc:
            self.stats.dropped += 1
            self.stats.record_error(kind, exc.user_message)
            return
        except ContractError as exc:
            if await self._explained(world, kind):
                self.stats.skipped += 1  # a pause / halt / drain arrived while the step was running
            else:
                self.stats.record_error(kind, exc.user_message)
            return
        except FictraError as exc:
            self.stats.record_error(kind, exc.user_message)
            return
        except Exception as exc:  # a node hiccup must not stop the simulator
            self.stats.record_error(kind, f"{type(exc).__name__}: {str(exc)[:160]}")
            return
        self.stats.sent += sent
        self.stats.kinds[kind] += 1


def _typical_txs(kind: str) -> float:
    return {"oracle": 4.0, "swap": 2.0}.get(kind, 1.0)
