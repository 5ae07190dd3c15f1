"""The action runner: the loop that carries approved actions through their kind's steps.

It knows no kind: for each action it looks the kind up in the registry
(:mod:`fictra.emergency.kinds.registry`) and calls ``plan`` → ``dry_run`` (on request) → ``execute`` →
``observe`` → ``verify``, recording every step as an ``action_events`` row plus an audit entry in one
transaction. The kinds send transactions through :class:`~fictra.emergency.txs.ActionTxs` (the platform's
one :class:`~fictra.chain.sender.TxSender`): a transaction is recorded before it is broadcast, so a
crash between the two is recovered by the next pass, which re-broadcasts the recorded bytes.

:meth:`ActionRunner.run` picks up work: policy-approved actions (executed at once), actions executing
when the process stopped, and actions waiting on a Timelock delay or a governance vote. :meth:`wake`
makes it look now (the policy stage calls it after its transaction commits).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.audit.service import actor_name
from fictra.auth.actor import SYSTEM
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.sender import TxSender
from fictra.clock import Clock, wait_or_stop
from fictra.emergency import queries
from fictra.emergency.config import EmergencyConfig
from fictra.emergency.controls import PlatformControl
from fictra.emergency.events import OnEvent
from fictra.emergency.keystore import Signer
from fictra.emergency.kinds.base import ActionFacts, Kind, PlannedCall
from fictra.emergency.kinds.context import KindContext
from fictra.emergency.metrics import RunnerMetrics
from fictra.emergency.models import ActionDryRun, EmergencyAction
from fictra.emergency.reader import ChainReader
from fictra.emergency.recorder import Recorder
from fictra.emergency.signers import Signers
from fictra.emergency.txs import ActionTxs
from fictra.emergency.types import ACTIVE_STATUSES, FINAL_STATUSES, ActionView, DryRunView
from fictra.errors import ConflictError, FictraError, PermissionDeniedError, UsageError

__all__ = ["ActionRunner", "RunnerMetrics"]

log = logging.getLogger(__name__)
OPEN = frozenset({"proposed", "approved"})


def _kinds() -> Mapping[str, Kind]:
    from fictra.emergency.kinds.registry import KINDS

    return KINDS


class ActionRunner:
    """Runs actions for one deployment. ``controls`` is what the component kinds act through (the
    integrator's :class:`PlatformControl`); ``on_event`` is called inside the transaction that records
    each action event; ``kinds`` defaults to the registry."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        pool: RpcPool,
        manifest: Manifest,
        clock: Clock,
        config: EmergencyConfig,
        data_dir: Path,
        controls: PlatformControl | None = None,
        registry: CollectorRegistry | None = None,
        on_event: OnEvent | None = None,
        poll_interval: float = 0.25,
        loop_interval: float = 5.0,
        sender: TxSender | None = None,
        kinds: Mapping[str, Kind] | None = None,
    ) -> None:
        self.sessions, self.pool, self.manifest, self.clock = sessions, pool, manifest, clock
        self.config, self.data_dir, self.on_event = config, data_dir, on_event
        self.poll_interval, self.loop_interval = poll_interval, loop_interval
        self.kinds = kinds if kinds is not None else _kinds()
        self.reader = ChainReader(pool, manifest)
        self.metrics = RunnerMetrics(registry)
        self.recorder = Recorder(sessions=sessions, clock=clock, on_event=on_event)
        self.signers = Signers(
            config=config, manifest=manifest, data_dir=data_dir, reader=self.reader,
            definitions=[k.definition for k in self.kinds.values()],
        )  # fmt: skip
        # every transaction goes through the platform's one sender (shared: its per-key locks then
        # cover every domain that signs with a key)
        self.sender = sender or TxSender(pool=pool, clock=clock, poll_interval=poll_interval)
        self.txs = ActionTxs(
            sessions=sessions, clock=clock, sender=self.sender, signers=self.signers, config=config,
            recorder=self.recorder, metrics=self.metrics, controls=controls,
        )  # fmt: skip
        self.ctx = KindContext(
            sessions=sessions, clock=clock, reader=self.reader, config=config, signers=self.signers,
            txs=self.txs, recorder=self.recorder, controls=controls, poll_interval=poll_interval,
        )  # fmt: skip
        self._wake = asyncio.Event()
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._requested = self._handled = 0
        self._progress = asyncio.Event()
        self._plans: dict[tuple[int, str], list[PlannedCall]] = {}

    @property
    def controls(self) -> PlatformControl | None:
        return self.ctx.controls

    @controls.setter
    def controls(self, value: PlatformControl | None) -> None:
        self.ctx.controls = self.txs.controls = value

    # -- signers (kept on the runner: start-up and tools use them) --------------------------------

    def signer_address(self, role: str) -> str:
        return self.signers.address(role)

    async def check_signers(self) -> list[str]:
        return await self.signers.check()

    async def signer(self, role: str) -> Signer:
        return await self.signers.key(role)

    # -- one action -------------------------------------------------------------------------------

    def kind_of(self, kind: str) -> Kind:
        found = self.kinds.get(kind)
        if found is None:
            raise UsageError(f"Unknown action kind '{kind}'; expected one of: {', '.join(self.kinds)}.")
        return found

    async def _facts(self, action_id: int) -> ActionFacts:
        async with self.sessions() as s:
            a = await queries.load_action(s, action_id)
            return ActionFacts(
                a.id,
                a.kind,
                dict(a.params),
                a.params_hash,
                a.status,
                a.executed_by,
                dict(a.timelock_op or {}),
            )

    async def plan(self, action: ActionFacts) -> list[PlannedCall]:
        """The kind's plan for the action's current parameters (computed once per params hash)."""
        key = (action.id, action.params_hash)
        if key not in self._plans:
            self._plans[key] = await self.kind_of(action.kind).plan(self.ctx, action)
        return self._plans[key]

    async def dry_run(self, action_id: int, *, actor: object = SYSTEM) -> DryRunView:
        """Simulate the action's current parameters at the current head and record the result."""
        action = await self._facts(action_id)
        if action.status in FINAL_STATUSES or action.status in ACTIVE_STATUSES:
            raise ConflictError(
                f"Action {action_id} is {action.status}; a dry run is for an action not yet executed."
            )
        kind = self.kind_of(action.kind)
        result = await kind.dry_run(self.ctx, action, await self.plan(action))
        async with self.sessions.begin() as s:
            row_action = await queries.load_action(s, action_id, lock=True)
            row = ActionDryRun(
                action_id=row_action.id, params_hash=row_action.params_hash, at=self.clock.now(),
                block_number=result.block_number, ok=result.ok, traced=result.traced, steps=result.steps,
                summary=result.summary,
            )  # fmt: skip
            s.add(row)
            await s.flush()
            await self.recorder.add(
                s, row_action, "dry_run", f"Dry run at block {result.block_number}: {result.summary}",
                actor=actor, dry_run_id=row.id, ok=result.ok, traced=result.traced,
                block=result.block_number, params_hash=row_action.params_hash,
            )  # fmt: skip
            return queries.dry_run_view(row)

    async def execute(self, action_id: int, actor: object, *, wait: bool = True) -> ActionView:
        """Execute an approved action whose current parameters were dry-run. Exactly one caller starts
        it: the others get "already executing" (409). With ``wait`` (default), return once it is
        verified, failed or waiting (Timelock, vote); otherwise once it has started."""
        can = getattr(actor, "can", None)
        if callable(can) and not can("actions.execute"):
            raise PermissionDeniedError(
                f"'{actor_name(actor)}' lacks the permission 'actions.execute' (roles: "
                f"{', '.join(getattr(actor, 'roles', ())) or 'none'})."
            )
        async with self.sessions() as s:
            row = await queries.load_action(s, action_id)
            self._refuse_started(row)
            await queries.require_approved(s, row, clock=self.clock)
            dry = await queries.latest_dry_run(s, row.id)
            if dry is None or dry.params_hash != row.params_hash:
                raise ConflictError(
                    f"Action {action_id} has no dry run of its current parameters "
                    f"({row.params_hash[:12]}); run one first (`fictra actions dry-run {action_id}` "
                    "or POST .../dry-run)."
                )
            if not dry.ok:
                raise ConflictError(
                    f"The dry run of action {action_id} (block {dry.block_number}) shows it would fail: "
                    f"{dry.summary} Fix the cause and dry-run again, or cancel the action."
                )
            checked = row.params_hash
        for call in await self.plan(await self._facts(action_id)):
            await self.signers.key(call.signer)  # keystore problems stop here, nothing changed
            self.txs.check_isolation(call)
        await self._claim(action_id, actor, params_hash=checked)
        if wait:
            await self._drive(action_id)
        else:
            self.wake()
        async with self.sessions() as s:
            return await queries.get_action(s, action_id, clock=self.clock)

    @staticmethod
    def _refuse_started(row: EmergencyAction) -> None:
        if row.status in ACTIVE_STATUSES:
            raise ConflictError(
                f"Action {row.id} is already executing (status {row.status}, started by "
                f"{row.executed_by or 'system'}); follow it with `fictra actions show {row.id}`."
            )
        if row.status not in OPEN:
            raise ConflictError(f"Action {row.id} is {row.status}; only an approved action can be executed.")

    async def _claim(self, action_id: int, actor: object, *, params_hash: str) -> None:
        """The conditional UPDATE that lets exactly one caller start the action (the first statement of
        its transaction, so SQLite serialises it too); the loser reads why."""
        name = actor_name(actor)
        async with self.sessions.begin() as s:
            claimed = await s.execute(
                update(EmergencyAction)
                .where(
                    EmergencyAction.id == action_id,
                    EmergencyAction.status.in_(OPEN),
                    EmergencyAction.params_hash == params_hash,
                )
                .values(status="executing", executed_by=name)
            )
            row = await queries.load_action(s, action_id, lock=True)
            if getattr(claimed, "rowcount", 0) != 1:
                self._refuse_started(row)
                raise ConflictError(f"Action {action_id} changed while starting; review it and try again.")
            await self.recorder.add(s, row, "executing", f"{name} started execution", actor=actor)

    async def execute_automatic(self, action_id: int) -> ActionView:
        """The automatic path: a policy-approved action is dry-run and executed at once. When it cannot
        start (the dry run fails, a keystore cannot be opened) the action fails, saying why, rather
        than being retried on every loop."""
        try:
            await self.dry_run(action_id)
            return await self.execute(action_id, SYSTEM)
        except FictraError as exc:
            await self.recorder.fail(action_id, exc.user_message)
            async with self.sessions() as s:
                return await queries.get_action(s, action_id, clock=self.clock)

    async def advance(self, action_id: int) -> ActionView:
        """Carry an executing or waiting action as far as it can go now (the run loop's step)."""
        await self._drive(action_id)
        async with self.sessions() as s:
            return await queries.get_action(s, action_id, clock=self.clock)

    async def _drive(self, action_id: int) -> None:
        """One driver per action at a time (execute and the run loop may both get to it)."""
        lock = self._locks.setdefault(action_id, asyncio.Lock())
        async with lock:
            try:
                await self._step(action_id)
            except FictraError as exc:
                await self.recorder.fail(action_id, exc.user_message)

    async def _step(self, action_id: int) -> None:
        action = await self._facts(action_id)
        if action.status in FINAL_STATUSES or action.status in OPEN:
            return
        kind = self.kind_of(action.kind)
        progress = await kind.execute(self.ctx, action, await self.plan(action))
        if progress != "done":
            return  # waiting: run() comes back; failed: the kind recorded why
        action = await self._facts(action_id)  # what execute noted (e.g. the restart count)
        seen = await kind.observe(self.ctx, action)
        await self.recorder.verified(action_id, kind.verify(action, seen), seen.text, seen.details)

    # -- the loop ---------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look at pending work now (an automatic action was created, an action started)."""
        self._requested += 1
        self._wake.set()

    async def settle(self) -> None:
        """Wait until every wake-up so far has been handled by :meth:`run` and the actions it started
        have stopped moving (tests and tools; needs :meth:`run` running)."""
        while True:
            if self._handled < self._requested:
                self._progress.clear()
                await self._progress.wait()
                continue
            if not self._inflight:
                return
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)

    async def _pending(self) -> list[tuple[int, bool]]:
        async with self.sessions() as s:
            rows = await s.execute(
                select(EmergencyAction.id, EmergencyAction.status, EmergencyAction.policy).where(
                    EmergencyAction.status.in_([*ACTIVE_STATUSES, "approved"])
                )
            )
            return [
                (i, status == "approved")
                for i, status, policy in rows.all()
                if status != "approved" or policy
            ]

    def _spawn(self, action_id: int, fn: Callable[[int], Any]) -> None:
        if action_id in self._inflight:
            return

        async def job() -> None:
            try:
                await fn(action_id)
            except FictraError as exc:
                log.warning("Emergency action %s: %s", action_id, exc.user_message)
            finally:
                self._inflight.pop(action_id, None)

        self._inflight[action_id] = asyncio.ensure_future(job())

    async def run(self, stop: asyncio.Event) -> None:
        """Execute policy-approved actions at once, carry executing actions on (after a restart too)
        and come back to waiting ones. Woken by :meth:`wake`."""
        try:
            while not stop.is_set():
                generation = self._requested
                self._wake.clear()
                for action_id, automatic in await self._pending():
                    self._spawn(action_id, self.execute_automatic if automatic else self._drive)
                self._handled = generation
                self._progress.set()
                waker = asyncio.ensure_future(self._wake.wait())
                sleeper = asyncio.ensure_future(wait_or_stop(stop, self.loop_interval, self.clock))
                try:
                    await asyncio.wait({waker, sleeper}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    waker.cancel()
                    sleeper.cancel()
        finally:
            for task in list(self._inflight.values()):
                task.cancel()
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)
