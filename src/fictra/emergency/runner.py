"""Executing approved actions: dry run, signing with the keystore key, sending through the RPC pool,
tracking submitted → included → confirmed, and read-back verification.

Every step is an ``action_events`` row plus an audit entry in one transaction. A signed transaction is
written (hash, nonce, raw bytes) *before* it is broadcast, so a crash between the two is recovered on
the next start: :meth:`ActionRunner.run` re-broadcasts what was signed and tracks what was sent. Block
waits follow the chain head (polled through the pool on the injected clock), never wall-clock sleeps
on their own, so tests drive them by mining blocks.

Timelock kinds are scheduled first (status ``scheduled`` with the ready time); :meth:`advance` (and the
:meth:`run` loop, woken by :meth:`wake`) executes them once ``isOperationReady``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Histogram
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.audit.service import actor_name, record
from fictra.auth.actor import SYSTEM
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.sender import Receipt, SignedTx, TxSender
from fictra.clock import Clock, wait_or_stop
from fictra.config.fields import resolve_secret
from fictra.emergency import service
from fictra.emergency.calls import (
    ONCHAIN,
    PROPOSAL_STATES,
    ChainReader,
    PlannedCall,
    allow_lists,
    observe,
    plan,
)
from fictra.emergency.config import EmergencyConfig, expand_dirs, expand_path
from fictra.emergency.controls import PlatformControls
from fictra.emergency.dryrun import DryRunResult, simulate
from fictra.emergency.keystore import KeystoreError, Signer, inspect_keystore, open_keystore
from fictra.emergency.models import ActionDryRun, ActionTx, EmergencyAction, ResponsePolicyState
from fictra.emergency.service import OnEvent
from fictra.emergency.types import ACTIVE_STATUSES, FINAL_STATUSES, ActionView, DryRunView
from fictra.errors import ConfigError, ConflictError, FictraError, PermissionDeniedError

if TYPE_CHECKING:
    from fictra.platform.assemble import Platform

__all__ = ["ActionRunner", "RunnerMetrics"]

log = logging.getLogger(__name__)


class _ActionTxStore:
    """The runner's :class:`~fictra.chain.sender.TxStore`: an ``action_txs`` row and a ``signed``
    event, one transaction, committed before the broadcast."""

    def __init__(self, runner: ActionRunner, *, action_id: int, call: PlannedCall) -> None:
        self.runner, self.action_id, self.call = runner, action_id, call
        self.row: ActionTx | None = None

    async def record(self, tx: SignedTx) -> None:
        self.row = await self.runner._record_signed(self.action_id, self.call, tx)


class RunnerMetrics:
    NAME = "fictra_action_alert_to_confirmed_seconds"

    def __init__(self, registry: CollectorRegistry | None) -> None:
        existing = getattr(registry, "_names_to_collectors", {}).get(self.NAME) if registry else None
        if isinstance(existing, Histogram):  # a second runner on the same registry shares the histogram
            self.alert_to_confirmed = existing
            return
        self.alert_to_confirmed = Histogram(
            self.NAME,
            "Time from the triggering alert firing to the action's last transaction confirmed.",
            ["kind"],
            buckets=(1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600, 1800),
            registry=registry,
        )


class ActionRunner:
    """Runs actions for one deployment. ``controls`` is the platform's hook object (isolate, restore,
    restart); ``on_event`` is called inside the transaction that records each action event."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        pool: RpcPool,
        manifest: Manifest,
        clock: Clock,
        config: EmergencyConfig,
        data_dir: Path,
        controls: PlatformControls | None = None,
        registry: CollectorRegistry | None = None,
        on_event: OnEvent | None = None,
        poll_interval: float = 0.25,
        loop_interval: float = 5.0,
        sender: TxSender | None = None,
    ) -> None:
        self.sessions = sessions
        self.pool = pool
        self.manifest = manifest
        self.clock = clock
        self.config = config
        self.data_dir = data_dir
        self.controls = controls
        self.on_event = on_event
        self.poll_interval = poll_interval
        self.loop_interval = loop_interval
        self.reader = ChainReader(pool, manifest)
        self.metrics = RunnerMetrics(registry)
        self._signers: dict[str, Signer] = {}
        self._signer_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        # every transaction goes through the platform's one sender (shared: its per-key locks then
        # cover every domain that signs with a key)
        self.sender = sender or TxSender(pool=pool, clock=clock, poll_interval=poll_interval)
        self._requested = self._handled = 0
        self._progress = asyncio.Event()
        self._plans: dict[tuple[int, str], list[PlannedCall]] = {}

    @classmethod
    def from_platform(
        cls,
        platform: Platform,
        *,
        config: EmergencyConfig | None = None,
        controls: PlatformControls | None = None,
        on_event: OnEvent | None = None,
    ) -> ActionRunner:
        from fictra.emergency.controls import PoolControls

        return cls(
            sessions=platform.sessions,
            pool=platform.pool,
            manifest=platform.manifest,
            clock=platform.clock,
            config=config or platform.config.emergency,
            data_dir=platform.settings.data_dir,
            controls=controls
            or PoolControls(
                pool=platform.pool,
                endpoint_names=[ep.name for ep in platform.config.network.endpoints],
                manifest=platform.manifest,
                supervisor=platform.supervisor,
            ),
            registry=platform.metrics.registry,
            on_event=on_event,
        )

    # -- signers ----------------------------------------------------------------------------------

    def _signer_config(self, role: str) -> tuple[Path, str | None]:
        cfg = self.config.signers.get(role)
        if cfg is None:
            raise ConfigError(
                f"emergency.yaml:signers.{role}: no {role} signer is configured; add its keystore and "
                "passphrase reference."
            )
        path = expand_path(cfg.keystore, config_dir=self.config.config_dir, data_dir=self.data_dir)
        expected = cfg.address
        if cfg.role is not None:
            holders = self.manifest.roles.get(cfg.role, [])
            if not holders:
                raise ConfigError(
                    f"emergency.yaml:signers.{role}.role: the manifest names no '{cfg.role}' account."
                )
            expected = holders[0]
        return path, expected

    def signer_address(self, role: str) -> str:
        """The address the ``role`` key signs as (from the keystore file; nothing decrypted)."""
        path, expected = self._signer_config(role)
        info, _ = inspect_keystore(path)
        if expected is not None and info.address.lower() != expected.lower():
            raise KeystoreError(
                f"Keystore file '{path}' holds {info.address}, but the {role} signer must be {expected}."
            )
        return info.address

    async def check_signers(self) -> list[str]:
        """Open every configured signer's keystore now (start-up): a missing file, a wrong passphrase or
        a key that is not the role holder stops the start with its message, instead of surfacing in the
        middle of an emergency — and the first pause does not pay for the key derivation. Returns the
        signer names."""
        for role in self.config.signers:
            await self.signer(role)
        return list(self.config.signers)

    async def signer(self, role: str) -> Signer:
        """The ``role`` key, decrypted once and limited to what that role may sign."""
        async with self._signer_lock:
            if role not in self._signers:
                path, expected = self._signer_config(role)
                cfg = self.config.signers[role]
                where = f"emergency.yaml:signers.{role}.passphrase"
                ref = expand_dirs(cfg.passphrase, data_dir=self.data_dir)
                secret = resolve_secret(ref, base_dir=self.config.config_dir, where=where)
                key = await open_keystore(
                    path,
                    secret,
                    role=role,
                    expected_address=expected,
                    secret_name=f"{where} ({cfg.passphrase})",
                )
                self._signers[role] = key.restricted(allow_lists(self.reader).get(role, {}))
            return self._signers[role]

    # -- events -----------------------------------------------------------------------------------

    async def _event(
        self,
        session: AsyncSession,
        action: EmergencyAction,
        kind: str,
        text: str,
        actor: object = SYSTEM,
        **details: Any,
    ) -> None:
        await service.add_event(
            session, action, kind=kind, actor=actor, text=text, clock=self.clock, details=details,
            on_event=self.on_event,
        )  # fmt: skip

    async def _plan(self, action: EmergencyAction) -> list[PlannedCall]:
        key = (action.id, action.params_hash)
        if key not in self._plans:
            self._plans[key] = await plan(
                self.reader, kind=action.kind, params=dict(action.params), action_id=action.id,
                params_hash=action.params_hash,
            )  # fmt: skip
        return self._plans[key]

    # -- dry run ----------------------------------------------------------------------------------

    async def _simulate(self, action: EmergencyAction) -> DryRunResult:
        if action.kind in ONCHAIN:
            calls = await self._plan(action)
            signers: dict[str, str] = {}
            for role in {c.signer for c in calls}:
                try:
                    signers[role] = self.signer_address(role)
                except (ConfigError, KeystoreError):
                    pass  # the step reports "no signer"
            return await simulate(
                self.reader, calls, signers=signers, kind=action.kind, params=dict(action.params)
            )
        head = await self.reader.head()
        state = self.controls.state() if self.controls is not None else None
        if action.kind.startswith("policy_"):
            name = str(action.params["policy"])
            self.config.policy(name)
            async with self.sessions() as s:
                row = await s.get(ResponsePolicyState, name)
            enabled = bool(row and row.enabled)
            want = action.kind == "policy_enable"
            now_word, want_word = ("enabled" if v else "disabled" for v in (enabled, want))
            text = f"policy '{name}' is {now_word} now; would be {want_word}"
            return DryRunResult(
                head, True, False, [{"now": text, "observed": {"enabled": enabled}}], text + "."
            )
        if self.controls is None:
            text = "no platform controls in this process (run it under `fictra up`)"
            return DryRunResult(head, False, False, [{"ok": False, "revert": text}], text + ".")
        target = ", ".join(f"{k} '{v}'" for k, v in action.params.items())
        text = f"would {action.kind} {target}; now: {state}"
        return DryRunResult(head, True, False, [{"now": str(state), "observed": state}], text + ".")

    async def dry_run(self, action_id: int, *, actor: object = SYSTEM) -> DryRunView:
        """Simulate the action's current parameters at the current head and record the result."""
        async with self.sessions() as s:
            action = await service.load_action(s, action_id)
        if action.status in FINAL_STATUSES or action.status in ACTIVE_STATUSES:
            raise ConflictError(
                f"Action {action_id} is {action.status}; a dry run is for an action not yet executed."
            )
        result = await self._simulate(action)
        async with self.sessions.begin() as s:
            action = await service.load_action(s, action_id, lock=True)
            row = ActionDryRun(
                action_id=action.id, params_hash=action.params_hash, at=self.clock.now(),
                block_number=result.block_number, ok=result.ok, traced=result.traced, steps=result.steps,
                summary=result.summary,
            )  # fmt: skip
            s.add(row)
            await s.flush()
            await self._event(
                s, action, "dry_run", f"Dry run at block {result.block_number}: {result.summary}",
                actor=actor,
                dry_run_id=row.id, ok=result.ok, traced=result.traced, block=result.block_number,
                params_hash=action.params_hash,
            )  # fmt: skip
            return service.dry_run_view(row)

    # -- execute ----------------------------------------------------------------------------------

    async def execute(self, action_id: int, actor: object, *, wait: bool = True) -> ActionView:
        """Execute an approved action whose current parameters were dry-run. With ``wait`` (default),
        return once it is verified, failed or scheduled on the Timelock; otherwise return once it has
        started and let :meth:`run` carry on."""
        can = getattr(actor, "can", None)
        if callable(can) and not can("actions.execute"):
            raise PermissionDeniedError(
                f"'{actor_name(actor)}' lacks the permission 'actions.execute' (roles: "
                f"{', '.join(getattr(actor, 'roles', ())) or 'none'})."
            )
        async with self.sessions.begin() as s:
            action = await service.load_action(s, action_id, lock=True)
            if action.status not in service.OPEN:
                raise ConflictError(
                    f"Action {action_id} is {action.status}; only an approved action can be executed."
                )
            await service.require_approved(s, action, clock=self.clock)
            dry = await service.latest_dry_run(s, action.id)
            if dry is None or dry.params_hash != action.params_hash:
                raise ConflictError(
                    f"Action {action_id} has no dry run of its current parameters "
                    f"({action.params_hash[:12]}); run one first (`fictra actions dry-run {action_id}` "
                    "or POST .../dry-run)."
                )
            if not dry.ok:
                raise ConflictError(
                    f"The dry run of action {action_id} (block {dry.block_number}) shows it would fail: "
                    f"{dry.summary} Fix the cause and dry-run again, or cancel the action."
                )
            if action.kind in ONCHAIN:
                for call in await self._plan(action):
                    await self.signer(call.signer)  # keystore problems stop here, nothing changed
                    self._check_isolation(call)
            action.status = "executing"
            action.executed_by = actor_name(actor)
            await self._event(s, action, "executing", f"{action.executed_by} started execution", actor=actor)
        if wait:
            await self._drive(action_id)
        else:
            self.wake()
        async with self.sessions() as s:
            return await service.get_action(s, action_id, clock=self.clock)

    async def execute_automatic(self, action_id: int) -> ActionView:
        """The automatic path: a policy-approved action is dry-run and executed at once. When it cannot
        start (the dry run fails, a keystore cannot be opened) the action fails, saying why, rather
        than being retried on every loop."""
        try:
            await self.dry_run(action_id)
            return await self.execute(action_id, SYSTEM)
        except FictraError as exc:
            await self._fail(action_id, exc.user_message)
            async with self.sessions() as s:
                return await service.get_action(s, action_id, clock=self.clock)

    async def advance(self, action_id: int) -> ActionView:
        """Carry an executing or scheduled action as far as it can go now (the run loop's step)."""
        await self._drive(action_id)
        async with self.sessions() as s:
            return await service.get_action(s, action_id, clock=self.clock)

    def _check_isolation(self, call: PlannedCall) -> None:
        if self.controls is None:
            return
        isolated = self.controls.contract_isolated(call.to)
        if isolated is not None:
            raise ConflictError(
                f"Contract '{isolated}' is isolated: the platform sends no actions to it ({call.label}). "
                "Restore it first (action kind 'restore')."
            )

    async def _drive(self, action_id: int) -> None:
        """One driver per action at a time (execute and the run loop may both get to it)."""
        lock = self._locks.setdefault(action_id, asyncio.Lock())
        async with lock:
            try:
                await self._drive_inner(action_id)
            except FictraError as exc:
                await self._fail(action_id, exc.user_message)

    async def _fail(self, action_id: int, message: str) -> None:
        async with self.sessions.begin() as s:
            action = await service.load_action(s, action_id, lock=True)
            if action.status in FINAL_STATUSES:
                return
            before = action.status
            action.status = "failed"
            action.error = message
            await self._event(s, action, "failed", f"Failed: {message}", previous=before)

    async def _drive_inner(self, action_id: int) -> None:
        async with self.sessions() as s:
            action = await service.load_action(s, action_id)
        if action.status in FINAL_STATUSES or action.status in service.OPEN:
            return
        if action.kind not in ONCHAIN:
            await self._apply_local(action)
            return
        calls = await self._plan(action)
        for call in calls:
            async with self.sessions() as s:
                rows = await s.execute(
                    select(ActionTx)
                    .where(ActionTx.action_id == action_id, ActionTx.step == call.step)
                    .order_by(ActionTx.id.desc())
                    .limit(1)
                )
                tx = rows.scalar_one_or_none()
            if tx is not None and tx.status == "confirmed":
                continue
            if tx is not None and tx.status == "failed":
                return
            if tx is None:
                if call.wait_ready is not None and not await self._ready(action_id, call):
                    return  # scheduled; run() comes back when the Timelock operation is ready
                if call.wait_proposal is not None and not await self._proposal_ready(action_id, call):
                    return  # the proposal is still being voted on (or failed: the action failed)
                tx = await self._send(action_id, call)
                if tx is None:
                    return
            if not await self._track(action_id, tx.id):
                return
        await self._verify(action_id)

    async def _ready(self, action_id: int, call: PlannedCall) -> bool:
        op = call.wait_ready
        assert op is not None
        (ready,) = await self.reader.read("Timelock", "isOperationReady", op)
        if ready:
            return True
        (timestamp,) = await self.reader.read("Timelock", "getTimestamp", op)
        ready_at = datetime.fromtimestamp(int(timestamp), UTC)
        async with self.sessions.begin() as s:
            action = await service.load_action(s, action_id, lock=True)
            if action.status != "scheduled":
                action.status = "scheduled"
                action.scheduled_ready_at = ready_at
                action.timelock_op = {"id": "0x" + op.hex(), "ready_at": ready_at.isoformat()}
                await self._event(
                    s, action, "scheduled",
                    f"Scheduled on the Timelock (operation 0x{op.hex()[:12]}…); executable from "
                    f"{ready_at.isoformat()} (chain time)",
                    operation=f"0x{op.hex()}", ready_at=ready_at.isoformat(),
                )  # fmt: skip
        return False

    async def _proposal_ready(self, action_id: int, call: PlannedCall) -> bool:
        """Is the Governor proposal in the state this step needs (Queued also needs its eta passed)?
        A proposal that can no longer get there fails the action; each new state is a timeline event."""
        assert call.wait_proposal is not None
        proposal_id, wanted = call.wait_proposal
        (raw,) = await self.reader.read("Governor", "state", proposal_id)
        state = PROPOSAL_STATES[int(raw)]
        ready = state == wanted
        eta = None
        if ready and wanted == "Queued":
            (eta,) = await self.reader.read("Governor", "proposalEta", proposal_id)
            block = await self.pool.call("eth_getBlockByNumber", ["latest", False])
            ready = int(block["timestamp"], 16) >= int(eta)
        async with self.sessions.begin() as s:
            action = await service.load_action(s, action_id, lock=True)
            seen = dict(action.timelock_op or {})
            if seen.get("proposal_state") != state:
                action.timelock_op = {**seen, "proposal_id": str(proposal_id), "proposal_state": state}
                if state in ("Canceled", "Defeated", "Expired"):
                    action.status, action.error = "failed", f"governance proposal {state.lower()}"
                    await self._event(
                        s, action, "failed", f"Governance proposal {state.lower()}", proposal_state=state
                    )
                    return False
                if not ready and action.status != "scheduled":
                    action.status = "scheduled"
                await self._event(
                    s, action, "proposal", f"Governance proposal {str(proposal_id)[:12]}… is {state}",
                    proposal_id=str(proposal_id), proposal_state=state, eta=int(eta) if eta else None,
                )  # fmt: skip
            if eta and not ready and action.scheduled_ready_at is None:
                action.scheduled_ready_at = datetime.fromtimestamp(int(eta), UTC)
        return ready

    async def _dry_run_gas(self, action_id: int, call: PlannedCall) -> int | None:
        """The gas the dry run measured for this step (the sender's estimate otherwise)."""
        async with self.sessions() as s:
            dry = await service.latest_dry_run(s, action_id)
        for step in dry.steps if dry is not None else []:
            if step.get("step") == call.step and step.get("gas"):
                return int(step["gas"])
        return None

    async def _send(self, action_id: int, call: PlannedCall, *, broadcast: bool = True) -> ActionTx | None:
        """Sign the step's transaction, record it (``action_txs`` + a ``signed`` event), broadcast it —
        through the shared :class:`TxSender`, under the signing key's lock, so two actions of one key
        never pick the same pending nonce."""
        signer = await self.signer(call.signer)
        self._check_isolation(call)
        store = _ActionTxStore(self, action_id=action_id, call=call)
        signed = await self.sender.send(
            signer=signer, to=call.to, data=call.data, store=store, label=call.label,
            estimate=await self._dry_run_gas(action_id, call), broadcast=broadcast,
        )  # fmt: skip
        if store.row is None:
            raise ConflictError(f"{call.label}: tx {signed.tx_hash} was signed but not recorded.")
        if broadcast:
            await self._submitted(action_id, store.row.id)
        return store.row

    async def _record_signed(self, action_id: int, call: PlannedCall, tx: SignedTx) -> ActionTx:
        """The sender's record step: the signed transaction and its event, committed before broadcast."""
        async with self.sessions.begin() as s:
            action = await service.load_action(s, action_id, lock=True)
            row = ActionTx(
                action_id=action_id, step=call.step, label=call.label, to=call.to, signer=tx.signer,
                nonce=tx.nonce, tx_hash=tx.tx_hash, raw_tx=tx.raw, status="signed", confirmations=0,
            )  # fmt: skip
            s.add(row)
            await s.flush()
            await self._event(
                s, action, "signed", f"Signed {call.label} with the {call.signer} key ({tx.signer}), "
                f"nonce {tx.nonce}, tx {tx.tx_hash}", tx_hash=tx.tx_hash, nonce=tx.nonce, signer=tx.signer,
                step=call.step, gas_limit=tx.gas_limit,
            )  # fmt: skip
        return row

    async def _broadcast(self, action_id: int, tx_id: int) -> None:
        """Send the recorded raw transaction (again, after a crash: the same bytes, never re-signed)."""
        async with self.sessions() as s:
            row = await s.get(ActionTx, tx_id)
            if row is None or row.raw_tx is None or row.tx_hash is None:
                raise ConflictError(f"Action {action_id}: transaction record {tx_id} has no signed bytes.")
            raw, tx_hash = row.raw_tx, row.tx_hash
        await self.sender.broadcast(raw=raw, tx_hash=tx_hash)
        await self._submitted(action_id, tx_id)

    async def _submitted(self, action_id: int, tx_id: int) -> None:
        async with self.sessions.begin() as s:
            action = await service.load_action(s, action_id, lock=True)
            row = await s.get(ActionTx, tx_id, with_for_update=True)
            if row is None:
                raise ConflictError(f"Action {action_id}: transaction record {tx_id} is missing.")
            row.status = "submitted"
            row.submitted_at = self.clock.now()
            action.status = "submitted"
            await self._event(
                s, action, "submitted", f"Submitted {row.label}: tx {row.tx_hash} (nonce {row.nonce})",
                tx_hash=row.tx_hash, nonce=row.nonce, step=row.step,
            )  # fmt: skip

    async def _track(self, action_id: int, tx_id: int) -> bool:
        """Follow one transaction to confirmed (True) or failed (False); a transaction recorded but
        not yet broadcast (a crash in between) is broadcast first — the recorded bytes."""
        async with self.sessions() as s:
            row = await s.get(ActionTx, tx_id)
            if row is None or row.tx_hash is None:
                raise ConflictError(f"Action {action_id}: transaction record {tx_id} is missing.")
            status, tx_hash = row.status, row.tx_hash
            seen = None if status in ("signed", "submitted") else row.block_hash
        if status == "signed":
            await self._broadcast(action_id, tx_id)

        async def on_receipt(receipt: Receipt) -> bool:
            return await self._included(action_id, tx_id, receipt)

        tracked = await self.sender.track(
            tx_hash=tx_hash, confirmations=self.config.confirmations,
            timeout_blocks=self.config.receipt_timeout_blocks, on_receipt=on_receipt, seen_block_hash=seen,
        )  # fmt: skip
        if tracked.status == "timeout":
            await self._tx_failed(action_id, tx_id, tracked.reason or "not included")
            return False
        if tracked.status == "failed":
            return False
        await self._confirmed(action_id, tx_id, tracked.confirmations)
        return True

    async def _included(self, action_id: int, tx_id: int, receipt: Receipt) -> bool:
        block, gas_used, price, ok = (
            receipt.block_number, receipt.gas_used, receipt.effective_gas_price, receipt.ok
        )  # fmt: skip
        reason = None
        if not ok:
            async with self.sessions() as s:
                row = await s.get(ActionTx, tx_id)
                if row is None:
                    raise ConflictError(f"Action {action_id}: transaction record {tx_id} is missing.")
                frm, to, label = row.signer, row.to, row.label
            reason = await self.sender.replay_reason(
                sender=frm, to=to, data=await self._data_of(action_id, tx_id), block=block, label=label
            )
        async with self.sessions.begin() as s:
            action = await service.load_action(s, action_id, lock=True)
            row = await s.get(ActionTx, tx_id, with_for_update=True)
            if row is None:
                raise ConflictError(f"Action {action_id}: transaction record {tx_id} is missing.")
            row.status = "included" if ok else "failed"
            row.block_number, row.block_hash = block, receipt.block_hash
            row.gas_used, row.effective_gas_price = gas_used, price
            row.included_at = self.clock.now()
            action.status = "included" if ok else "failed"
            details = {
                "tx_hash": row.tx_hash,
                "block": block,
                "gas_used": gas_used,
                "effective_gas_price": price,
            }
            gwei = price / 1e9
            await self._event(
                s, action, "included",
                f"{row.label} included in block {block}: gas used {gas_used} at {gwei:.2f} gwei, "
                f"status {'success' if ok else 'reverted'}",
                status="success" if ok else "reverted", **details,
            )  # fmt: skip
            if not ok:
                row.error = reason
                action.error = reason
                await self._event(s, action, "failed", f"Failed: {reason}", reason=reason, **details)
        return ok

    async def _data_of(self, action_id: int, tx_id: int) -> str:
        async with self.sessions() as s:
            action = await service.load_action(s, action_id)
            row = await s.get(ActionTx, tx_id)
            if row is None:
                raise ConflictError(f"Action {action_id}: transaction record {tx_id} is missing.")
            step = row.step
        return next(c.data for c in await self._plan(action) if c.step == step)

    async def _tx_failed(self, action_id: int, tx_id: int, message: str) -> None:
        async with self.sessions.begin() as s:
            row = await s.get(ActionTx, tx_id, with_for_update=True)
            if row is None:
                raise ConflictError(f"Action {action_id}: transaction record {tx_id} is missing.")
            row.status, row.error = "failed", message
        await self._fail(action_id, f"{row.label}: {message}")

    async def _confirmed(self, action_id: int, tx_id: int, confirmations: int) -> None:
        async with self.sessions.begin() as s:
            action = await service.load_action(s, action_id, lock=True)
            row = await s.get(ActionTx, tx_id, with_for_update=True)
            if row is None:
                raise ConflictError(f"Action {action_id}: transaction record {tx_id} is missing.")
            now = self.clock.now()
            row.status, row.confirmations, row.confirmed_at = "confirmed", confirmations, now
            action.status = "confirmed"
            calls = await self._plan(action)
            last = row.step == max(c.step for c in calls)
            extra: dict[str, Any] = {}
            if last:
                action.confirmed_at = now
                if action.trigger_at is not None:
                    seconds = max((now - action.trigger_at).total_seconds(), 0.0)
                    action.alert_to_confirmed_seconds = seconds
                    self.metrics.alert_to_confirmed.labels(action.kind).observe(seconds)
                    extra["alert_to_confirmed_seconds"] = round(seconds, 3)
            text = f"{row.label} confirmed ({confirmations} confirmations on block {row.block_number})"
            if "alert_to_confirmed_seconds" in extra:
                text += f"; {extra['alert_to_confirmed_seconds']:.1f}s after the triggering alert"
            await self._event(
                s, action, "confirmed", text, tx_hash=row.tx_hash, block=row.block_number,
                confirmations=confirmations, **extra,
            )  # fmt: skip

    async def _verify(self, action_id: int) -> None:
        async with self.sessions() as s:
            action = await service.load_action(s, action_id)
        seen = await observe(self.reader, kind=action.kind, params=dict(action.params))
        await self._verified(action_id, seen.ok, seen.text, seen.details)

    async def _verified(self, action_id: int, ok: bool, text: str, details: dict[str, Any]) -> None:
        async with self.sessions.begin() as s:
            action = await service.load_action(s, action_id, lock=True)
            action.verification = {"ok": ok, "text": text, **details}
            if ok:
                action.status = "verified"
                await self._event(s, action, "verified", f"Verified: {text}", **details)
            else:
                action.status = "failed"
                action.error = f"not verified: {text}"
                await self._event(s, action, "failed", f"Not verified: {text}", **details)

    async def _apply_local(self, action: EmergencyAction) -> None:
        """Platform and policy kinds: no transaction; the change is applied and read back."""
        params = dict(action.params)
        if action.kind.startswith("policy_"):
            name = str(params["policy"])
            enabled = action.kind == "policy_enable"
            async with self.sessions.begin() as s:
                locked = await service.load_action(s, action.id, lock=True)
                row = await s.get(ResponsePolicyState, name, with_for_update=True)
                before = bool(row and row.enabled)
                if row is None:
                    row = ResponsePolicyState(
                        name=name, enabled=enabled, changed_at=self.clock.now(),
                        changed_by=locked.executed_by or "system", action_id=locked.id,
                    )  # fmt: skip
                    s.add(row)
                else:
                    row.enabled, row.changed_at = enabled, self.clock.now()
                    row.changed_by, row.action_id = locked.executed_by or "system", locked.id
                await s.flush()
                await record(
                    s, actor=locked.executed_by or "system",
                    action="policy." + ("enable" if enabled else "disable"),
                    target=f"policy:{name}", before={"enabled": before}, after={"enabled": enabled},
                    reason=f"approved action {locked.id}", clock=self.clock,
                )  # fmt: skip
                await self._event(
                    s, locked, "applied", f"Policy '{name}' {'enabled' if enabled else 'disabled'}"
                )
            async with self.sessions() as s:
                check = await s.get(ResponsePolicyState, name)
            ok = check is not None and check.enabled == enabled
            now_on = bool(check and check.enabled)
            await self._verified(
                action.id, ok, f"policy '{name}' is {'enabled' if now_on else 'disabled'}",
                {"policy": name, "enabled": now_on},
            )  # fmt: skip
            return
        if self.controls is None:
            raise ConflictError(
                "No platform controls in this process: isolate/restore/restart need `fictra up`."
            )
        if action.kind == "restart":
            component = str(params["component"])
            count = await self.controls.restart(component)
            async with self.sessions.begin() as s:
                locked = await service.load_action(s, action.id, lock=True)
                await self._event(
                    s, locked, "applied", f"Restart of '{component}' requested", component=component
                )
            for _ in range(100):
                restarts = int(self.controls.state().get("restarts", {}).get(component, 0))
                if restarts >= count:
                    break
                await self.clock.sleep(self.poll_interval)
            await self._verified(action.id, restarts >= count, f"'{component}' restarted {restarts} time(s)",
                                 {"component": component, "restarts": restarts})  # fmt: skip
            return
        endpoint, contract = params.get("endpoint"), params.get("contract")
        if action.kind == "isolate":
            await self.controls.isolate(endpoint=endpoint, contract=contract)
        else:
            await self.controls.restore(endpoint=endpoint, contract=contract)
        async with self.sessions.begin() as s:
            locked = await service.load_action(s, action.id, lock=True)
            what = f"endpoint '{endpoint}'" if endpoint else f"contract '{contract}'"
            await self._event(s, locked, "applied", f"{action.kind.capitalize()}d {what}", **params)
        state = self.controls.state()
        listed = state["isolated_endpoints"] if endpoint else state["isolated_contracts"]
        isolated = (endpoint or contract) in listed
        ok = isolated if action.kind == "isolate" else not isolated
        await self._verified(
            action.id, ok, f"{what} is {'isolated' if isolated else 'in use'}", {"state": state}
        )

    # -- the platform task ------------------------------------------------------------------------

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
        and execute scheduled Timelock operations once ready. Woken by :meth:`wake`."""
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
