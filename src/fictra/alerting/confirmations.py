"""Confirmations and retractions: provisional alerts become confirmed when their block is deep enough;
a reorg retracts the occurrences on the blocks it removed, and the alert itself when its episode's
anchor block is gone (kept, never deleted). Both work in the caller's
session without committing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Severity
from fictra.alerting.models import (
    Alert,
    AlertEvent,
    AlertOccurrence,
    AlertStatus,
    Confirmation,
    EventKind,
)
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


def _reorg_info(reorg: Reorg) -> dict[str, Any]:
    return {
        "common_ancestor": reorg.common_ancestor,
        "depth": reorg.depth,
        "detected_at_block": reorg.detected_at_block,
        "old_hashes": list(reorg.old_hashes),
        "new_hashes": list(reorg.new_hashes),
    }


async def _removed_occurrences(session: AsyncSession, reorg: Reorg) -> list[Any]:
    survivors = {h.lower() for h in reorg.new_hashes}
    stmt = select(
        AlertOccurrence.id, AlertOccurrence.alert_id, AlertOccurrence.block_number, AlertOccurrence.block_hash
    ).where(
        AlertOccurrence.network == reorg.network,
        AlertOccurrence.block_number > reorg.common_ancestor,
        AlertOccurrence.retracted_at.is_(None),
    )
    return [r for r in (await session.execute(stmt)).all() if (r.block_hash or "").lower() not in survivors]


async def _latest_standing(session: AsyncSession, alert_ids: list[int]) -> dict[int, AlertOccurrence]:
    """Each alert's latest occurrence that still stands (not retracted)."""
    latest = (
        select(func.max(AlertOccurrence.id))
        .where(AlertOccurrence.alert_id.in_(alert_ids), AlertOccurrence.retracted_at.is_(None))
        .group_by(AlertOccurrence.alert_id)
    )
    rows = (await session.execute(select(AlertOccurrence).where(AlertOccurrence.id.in_(latest)))).scalars()
    return {o.alert_id: o for o in rows}


async def retract_for_reorg(session: AsyncSession, *, reorg: Reorg, clock: Clock) -> list[AlertChange]:
    """Retract exactly the occurrences whose block the reorg removed, whichever occurrence of their alert
    they are (kept, marked retracted, never deleted). An alert whose current episode is anchored on a
    removed block becomes ``retracted`` (and stops firing); an alert that keeps standing occurrences goes
    back to its latest standing occurrence's summary, evidence and transactions, and its count drops.
    Only the alerts that stop firing are returned as changes."""
    now = clock.now()
    info = _reorg_info(reorg)
    removed = await _removed_occurrences(session, reorg)
    stmt = select(
        Alert.id, Alert.fingerprint, Alert.severity, Alert.block_number, Alert.block_hash, Alert.status
    ).where(
        Alert.network == reorg.network,
        Alert.block_number > reorg.common_ancestor,
        Alert.confirmation != Confirmation.RETRACTED.value,
    )
    survivors = {h.lower() for h in reorg.new_hashes}
    anchored = [
        r for r in (await session.execute(stmt)).all() if (r.block_hash or "").lower() not in survivors
    ]
    if not removed and not anchored:
        return []
    by_alert: dict[int, list[Any]] = {}
    for occ in removed:
        by_alert.setdefault(occ.alert_id, []).append(occ)
    if removed:
        await session.execute(
            update(AlertOccurrence),
            [
                {
                    "id": o.id,
                    "retracted_at": now,
                    "retraction_reason": f"block {o.block_number} ({o.block_hash}) was removed by a reorg "
                    f"of depth {reorg.depth} above block {reorg.common_ancestor}",
                }
                for o in removed
            ],
        )
    anchored_ids = {r.id for r in anchored}
    affected = sorted(anchored_ids | set(by_alert))
    standing = await _latest_standing(session, affected)
    current: dict[int, Any] = {
        a.id: a
        for a in (
            await session.execute(select(Alert.id, Alert.count, Alert.history).where(Alert.id.in_(affected)))
        ).all()
    }
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for alert_id in affected:
        gone = by_alert.get(alert_id, [])
        gone_hashes = {(o.block_hash or "").lower() for o in gone}
        row = current[alert_id]
        upd: dict[str, Any] = {
            "id": alert_id,
            "count": max(0, int(row.count) - len(gone)),
            "history": [
                h for h in (row.history or []) if (h.get("block_hash") or "").lower() not in gone_hashes
            ],
        }
        latest = standing.get(alert_id)
        if latest is not None:
            upd.update(summary=latest.summary, evidence=latest.evidence, tx_hashes=list(latest.tx_hashes))
        details: dict[str, Any] = {
            "occurrence_ids": [o.id for o in gone],
            "blocks": sorted({int(o.block_number) for o in gone}),
            "standing_occurrence_id": latest.id if latest is not None else None,
            "reorg": info,
        }
        updates.append(upd)
        if alert_id not in anchored_ids:
            details["reason"] = (
                f"{len(gone)} occurrence(s) on block(s) {', '.join(map(str, details['blocks']))} removed "
                f"by a reorg of depth {reorg.depth}; the alert stands on its earlier occurrences"
            )
            events.append(
                {
                    "alert_id": alert_id,
                    "kind": EventKind.PARTLY_RETRACTED.value,
                    "at": now,
                    "details": details,
                }
            )
    for r in anchored:
        reason = (
            f"block {r.block_number} ({r.block_hash}) was removed by a reorg of depth {reorg.depth} "
            f"above block {reorg.common_ancestor}"
        )
        upd = next(u for u in updates if u["id"] == r.id)
        upd.update(confirmation=Confirmation.RETRACTED.value, retraction_reason=reason)
        if r.status == AlertStatus.FIRING.value:
            upd.update(status=AlertStatus.RESOLVED.value, resolved_at=now)
        gone = by_alert.get(r.id, [])
        events.append(
            {
                "alert_id": r.id,
                "kind": EventKind.RETRACTED.value,
                "at": now,
                "details": {
                    "reason": reason,
                    "reorg": info,
                    "occurrence_ids": [o.id for o in gone],
                    "standing_occurrence_id": standing[r.id].id if r.id in standing else None,
                },
            }
        )
    await session.execute(update(Alert), updates)
    if events:
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
        for r in anchored
    ]
