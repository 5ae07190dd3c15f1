"""An action's transactions: sign, record (``action_txs`` + a ``signed`` event, committed before the
broadcast), broadcast, track submitted → included → confirmed — all through the platform's one
:class:`~fictra.chain.sender.TxSender`, under the signing key's lock. A transaction recorded but not yet
broadcast (a crash in between) is broadcast on the next pass: the recorded bytes, never re-signed.

The on-chain kinds call :meth:`ActionTxs.step` for each call of their plan, in order.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.chain.sender import Receipt, SignedTx, TxSender
from fictra.clock import Clock
from fictra.emergency.config import EmergencyConfig
from fictra.emergency.controls import PlatformControl
from fictra.emergency.kinds.base import PlannedCall
from fictra.emergency.metrics import RunnerMetrics
from fictra.emergency.models import ActionTx
from fictra.emergency.recorder import Recorder
from fictra.emergency.service import latest_dry_run, load_action
from fictra.emergency.signers import Signers
from fictra.errors import ConflictError

__all__ = ["ActionTxs"]


class _Store:
    """The sender's :class:`~fictra.chain.sender.TxStore` for one planned call."""

    def __init__(self, txs: ActionTxs, *, action_id: int, call: PlannedCall) -> None:
        self.txs, self.action_id, self.call = txs, action_id, call
        self.row: ActionTx | None = None

    async def record(self, tx: SignedTx) -> None:
        self.row = await self.txs._record_signed(self.action_id, self.call, tx)


class ActionTxs:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        sender: TxSender,
        signers: Signers,
        config: EmergencyConfig,
        recorder: Recorder,
        metrics: RunnerMetrics,
        controls: PlatformControl | None,
    ) -> None:
        self.sessions, self.clock, self.sender, self.signers = sessions, clock, sender, signers
        self.config, self.recorder, self.metrics, self.controls = config, recorder, metrics, controls

    def check_isolation(self, call: PlannedCall) -> None:
        if self.controls is None:
            return
        isolated = self.controls.contract_isolated(call.to)
        if isolated is not None:
            raise ConflictError(
                f"Contract '{isolated}' is isolated: the platform sends no actions to it ({call.label}). "
                "Restore it first (action kind 'restore')."
            )

    async def latest(self, action_id: int, step: int) -> ActionTx | None:
        async with self.sessions() as s:
            rows = await s.execute(
                select(ActionTx)
                .where(ActionTx.action_id == action_id, ActionTx.step == step)
                .order_by(ActionTx.id.desc())
                .limit(1)
            )
            return rows.scalar_one_or_none()

    async def step(self, action_id: int, call: PlannedCall, *, last: bool) -> Literal["confirmed", "failed"]:
        """Send ``call`` unless it was sent already, then follow it to confirmed or failed."""
        tx = await self.latest(action_id, call.step)
        if tx is not None and tx.status in ("confirmed", "failed"):
            return "confirmed" if tx.status == "confirmed" else "failed"
        if tx is None:
            tx = await self.send(action_id, call)
        return "confirmed" if await self._track(action_id, tx.id, call, last=last) else "failed"

    async def _dry_run_gas(self, action_id: int, call: PlannedCall) -> int | None:
        """The gas the dry run measured for this step (the sender's estimate otherwise)."""
        async with self.sessions() as s:
            dry = await latest_dry_run(s, action_id)
        for step in dry.steps if dry is not None else []:
            if step.get("step") == call.step and step.get("gas"):
                return int(step["gas"])
        return None

    async def send(self, action_id: int, call: PlannedCall, *, broadcast: bool = True) -> ActionTx:
        """Sign the step's transaction, record it, broadcast it (``broadcast=False``: record only — the
        crash-recovery tests stop there)."""
        signer = await self.signers.key(call.signer)
        self.check_isolation(call)
        store = _Store(self, action_id=action_id, call=call)
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
        async with self.sessions.begin() as s:
            action = await load_action(s, action_id, lock=True)
            row = ActionTx(
                action_id=action_id, step=call.step, label=call.label, to=call.to, signer=tx.signer,
                nonce=tx.nonce, tx_hash=tx.tx_hash, raw_tx=tx.raw, status="signed", confirmations=0,
            )  # fmt: skip
            s.add(row)
            await s.flush()
            await self.recorder.add(
                s, action, "signed", f"Signed {call.label} with the {call.signer} key ({tx.signer}), "
                f"nonce {tx.nonce}, tx {tx.tx_hash}", tx_hash=tx.tx_hash, nonce=tx.nonce, signer=tx.signer,
                step=call.step, gas_limit=tx.gas_limit,
            )  # fmt: skip
        return row

    async def _row(self, s: AsyncSession, action_id: int, tx_id: int, *, lock: bool = False) -> ActionTx:
        row = await s.get(ActionTx, tx_id, with_for_update=lock)
        if row is None:
            raise ConflictError(f"Action {action_id}: transaction record {tx_id} is missing.")
        return row

    async def _broadcast(self, action_id: int, tx_id: int) -> None:
        """Send the recorded raw transaction (again, after a crash: the same bytes, never re-signed)."""
        async with self.sessions() as s:
            row = await self._row(s, action_id, tx_id)
            if row.raw_tx is None or row.tx_hash is None:
                raise ConflictError(f"Action {action_id}: transaction record {tx_id} has no signed bytes.")
            raw, tx_hash = row.raw_tx, row.tx_hash
        await self.sender.broadcast(raw=raw, tx_hash=tx_hash)
        await self._submitted(action_id, tx_id)

    async def _submitted(self, action_id: int, tx_id: int) -> None:
        async with self.sessions.begin() as s:
            action = await load_action(s, action_id, lock=True)
            row = await self._row(s, action_id, tx_id, lock=True)
            row.status, row.submitted_at = "submitted", self.clock.now()
            action.status = "submitted"
            await self.recorder.add(
                s, action, "submitted", f"Submitted {row.label}: tx {row.tx_hash} (nonce {row.nonce})",
                tx_hash=row.tx_hash, nonce=row.nonce, step=row.step,
            )  # fmt: skip

    async def _track(self, action_id: int, tx_id: int, call: PlannedCall, *, last: bool) -> bool:
        async with self.sessions() as s:
            row = await self._row(s, action_id, tx_id)
            if row.tx_hash is None:
                raise ConflictError(f"Action {action_id}: transaction record {tx_id} has no hash.")
            status, tx_hash = row.status, row.tx_hash
            seen = None if status in ("signed", "submitted") else row.block_hash
        if status == "signed":
            await self._broadcast(action_id, tx_id)

        async def on_receipt(receipt: Receipt) -> bool:
            return await self._included(action_id, tx_id, call, receipt)

        tracked = await self.sender.track(
            tx_hash=tx_hash, confirmations=self.config.confirmations,
            timeout_blocks=self.config.receipt_timeout_blocks, on_receipt=on_receipt, seen_block_hash=seen,
        )  # fmt: skip
        if tracked.status == "timeout":
            async with self.sessions.begin() as s:
                row = await self._row(s, action_id, tx_id, lock=True)
                row.status, row.error = "failed", tracked.reason or "not included"
                label = row.label
            await self.recorder.fail(action_id, f"{label}: {tracked.reason or 'not included'}")
            return False
        if tracked.status == "failed":
            return False
        await self._confirmed(action_id, tx_id, tracked.confirmations, last=last)
        return True

    async def _included(self, action_id: int, tx_id: int, call: PlannedCall, receipt: Receipt) -> bool:
        ok, block = receipt.ok, receipt.block_number
        reason = None
        if not ok:
            async with self.sessions() as s:
                row = await self._row(s, action_id, tx_id)
                frm, to, label = row.signer, row.to, row.label
            reason = await self.sender.replay_reason(
                sender=frm, to=to, data=call.data, block=block, label=label
            )
        async with self.sessions.begin() as s:
            action = await load_action(s, action_id, lock=True)
            row = await self._row(s, action_id, tx_id, lock=True)
            row.status = action.status = "included" if ok else "failed"
            row.block_number, row.block_hash = block, receipt.block_hash
            row.gas_used, row.effective_gas_price = receipt.gas_used, receipt.effective_gas_price
            row.included_at = self.clock.now()
            details: dict[str, Any] = {
                "tx_hash": row.tx_hash, "block": block, "gas_used": receipt.gas_used,
                "effective_gas_price": receipt.effective_gas_price,
            }  # fmt: skip
            gwei = receipt.effective_gas_price / 1e9
            await self.recorder.add(
                s, action, "included",
                f"{row.label} included in block {block}: gas used {receipt.gas_used} at {gwei:.2f} gwei, "
                f"status {'success' if ok else 'reverted'}",
                status="success" if ok else "reverted", **details,
            )  # fmt: skip
            if not ok:
                row.error = action.error = reason
                await self.recorder.add(s, action, "failed", f"Failed: {reason}", reason=reason, **details)
        return ok

    async def _confirmed(self, action_id: int, tx_id: int, confirmations: int, *, last: bool) -> None:
        async with self.sessions.begin() as s:
            action = await load_action(s, action_id, lock=True)
            row = await self._row(s, action_id, tx_id, lock=True)
            now = self.clock.now()
            row.status, row.confirmations, row.confirmed_at = "confirmed", confirmations, now
            action.status = "confirmed"
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
            await self.recorder.add(
                s, action, "confirmed", text, tx_hash=row.tx_hash, block=row.block_number,
                confirmations=confirmations, **extra,
            )  # fmt: skip
