"""Confirmations and retractions: provisional alerts become confirmed when their block is deep enough;
a reorg that removes an alert's block retracts it (kept, never deleted). Both work in the caller's
session without committing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Severity
from fictra.alerting.models import Alert, AlertEvent, AlertStatus, Confirmation, EventKind
from fictra.alerting.values import AlertChange
from fictra.chain.types import Reorg
from fictra.clock import Clock, SystemClock


async def confirm_up_to(
    session: AsyncSession, *, network: str, head: int, clock: Clock | None = None
) -> list[AlertChange]:
    """Mark provisional alerts whose anchor block now has its required confirmations as confirmed."""
    now = (clock or SystemClock()).now()
    stmt = select(Alert.id, Alert.fingerprint, Alert.severity, Alert.block_number).where(
        Alert.network == network,
        Alert.confirmation == Confirmation.PROVISIONAL.value,
        Alert.confirm_at <= head,
    )
    rows = (await session.execute(stmt)).all()
    if not rows:
        return []
    await session.execute(
        update(Alert),
        [{"id": r.id, "confirmation": Confirmation.CONFIRMED.value} for r in rows],
    )
    await session.execute(
        insert(AlertEvent),
        [
            {
                "alert_id": r.id,
                "kind": EventKind.CONFIRMED.value,
                "at": now,
                "details": {"head": head, "block_number": r.block_number},
            }
            for r in rows
        ],
    )
    return [
        AlertChange(
            r.id, network, r.fingerprint, EventKind.CONFIRMED, Severity(r.severity), Confirmation.CONFIRMED
        )
        for r in rows
    ]


async def retract_for_reorg(session: AsyncSession, *, reorg: Reorg, clock: Clock) -> list[AlertChange]:
    """Alerts anchored on a block the reorg removed become ``retracted`` (and stop firing); they are
    kept, with the reason and the reorg in their timeline."""
    now = clock.now()
    stmt = select(
        Alert.id, Alert.fingerprint, Alert.severity, Alert.block_number, Alert.block_hash, Alert.status
    ).where(
        Alert.network == reorg.network,
        Alert.block_number > reorg.common_ancestor,
        Alert.confirmation != Confirmation.RETRACTED.value,
    )
    survivors = {h.lower() for h in reorg.new_hashes}
    rows = [r for r in (await session.execute(stmt)).all() if (r.block_hash or "").lower() not in survivors]
    if not rows:
        return []
    reorg_info = {
        "common_ancestor": reorg.common_ancestor,
        "depth": reorg.depth,
        "detected_at_block": reorg.detected_at_block,
        "old_hashes": list(reorg.old_hashes),
        "new_hashes": list(reorg.new_hashes),
    }
    updates, events = [], []
    for r in rows:
        reason = (
            f"block {r.block_number} ({r.block_hash}) was removed by a reorg of depth {reorg.depth} "
            f"above block {reorg.common_ancestor}"
        )
        upd: dict[str, Any] = {
            "id": r.id,
            "confirmation": Confirmation.RETRACTED.value,
            "retraction_reason": reason,
        }
        if r.status == AlertStatus.FIRING.value:
            upd.update(status=AlertStatus.RESOLVED.value, resolved_at=now)
        updates.append(upd)
        events.append(
            {
                "alert_id": r.id,
                "kind": EventKind.RETRACTED.value,
                "at": now,
                "details": {"reason": reason, "reorg": reorg_info},
            }
        )
    await session.execute(update(Alert), updates)
    await session.execute(insert(AlertEvent), events)
    return [
        AlertChange(
            r.id,
            reorg.network,
            r.fingerprint,
            EventKind.RETRACTED,
            Severity(r.severity),
            Confirmation.RETRACTED,
        )
        for r in rows
    ]
