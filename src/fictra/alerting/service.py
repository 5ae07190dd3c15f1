"""The alert store's write path: findings -> alerts, confirmations, retraction by reorg.

Every function works inside the caller's session and never commits, so the chain follower can
commit alerts together with its checkpoint. :func:`confirm_up_to` and :func:`retract_for_reorg` live in
:mod:`fictra.alerting.confirmations` and are re-exported here. Writes are batched: one SELECT of the existing
fingerprints per call, then one bulk INSERT and one bulk UPDATE, whatever the number of findings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Text, cast, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.config import AlertPolicy
from fictra.alerting.confirmations import confirm_up_to, retract_for_reorg
from fictra.alerting.findings import Clear, Finding, Severity
from fictra.alerting.models import Alert, AlertEvent, AlertOccurrence, AlertStatus, Confirmation, EventKind
from fictra.alerting.values import AlertChange, ApplyResult, jsonable
from fictra.clock import Clock

__all__ = [
    "AlertChange",
    "ApplyResult",
    "apply_findings",
    "confirm_up_to",
    "jsonable",
    "retract_for_reorg",
]

_IN_CHUNK = 500
_STATE_COLUMNS = (
    Alert.id,
    Alert.network,
    Alert.fingerprint,
    Alert.severity,
    Alert.status,
    Alert.confirmation,
    Alert.count,
    Alert.fired_at,
    Alert.ack_deadline,
    Alert.block_number,
    Alert.occurrence_key,
)


def _occurrence(finding: Finding, at: datetime) -> dict[str, Any]:
    return {
        "at": at.isoformat(),
        "summary": finding.summary,
        "block_number": finding.block.number if finding.block else None,
        "block_hash": finding.block.hash if finding.block else None,
        "tx_hashes": list(finding.tx_hashes),
        "evidence": jsonable(finding.evidence),
    }


def _occurrence_row(finding: Finding, at: datetime, kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "at": at,
        "severity": Severity(finding.severity).value,
        "summary": finding.summary,
        "block_number": finding.block.number if finding.block else None,
        "block_hash": finding.block.hash if finding.block else None,
        "tx_hashes": list(finding.tx_hashes),
        "evidence": jsonable(finding.evidence),
        "occurrence_key": finding.occurrence_key[:100] if finding.occurrence_key else None,
        "retracted_at": None,
        "retraction_reason": None,
    }


def _written_once(finding: Finding) -> dict[str, Any]:
    """What a fired/refired timeline entry says, frozen at the time: it never reads the alert's current
    block, summary or severity (a later re-fire does not rewrite it)."""
    return {
        "severity": Severity(finding.severity).value,
        "summary": finding.summary,
        "block_number": finding.block.number if finding.block else None,
        "block_hash": finding.block.hash if finding.block else None,
        "tx_hashes": list(finding.tx_hashes),
    }


def _fresh(group: list[Finding], last_key: str | None) -> list[Finding]:
    """The findings that are new occurrences: a finding whose occurrence key was already seen (the
    alert's latest key, or an earlier finding of this call) is the same occurrence delivered again."""
    seen = {last_key} if last_key is not None else set()
    out = []
    for f in group:
        if f.occurrence_key is not None:
            if f.occurrence_key[:100] in seen:
                continue
            seen.add(f.occurrence_key[:100])
        out.append(f)
    return out


def _anchor(findings: Sequence[Finding], head: int | None) -> dict[str, Any]:
    """Confirmation fields for a new episode: anchored on the first finding that has a block."""
    with_block = next((f for f in findings if f.block is not None), None)
    if with_block is None or with_block.block is None:
        return {
            "block_number": None,
            "block_hash": None,
            "confirm_at": None,
            "confirmation": Confirmation.CONFIRMED.value,
            "required_confirmations": 0,
        }
    required = max(f.confirmations for f in findings)
    confirm_at = with_block.block.number + max(required, 1) - 1
    deep = required == 0 or (head is not None and head >= confirm_at)
    return {
        "block_number": with_block.block.number,
        "block_hash": with_block.block.hash,
        "confirm_at": confirm_at,
        "confirmation": (Confirmation.CONFIRMED if deep else Confirmation.PROVISIONAL).value,
        "required_confirmations": required,
    }


async def _load_existing(
    session: AsyncSession, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    """Current state of the alerts with these (network, fingerprint) keys (without their history: see
    :func:`_load_histories`). The fingerprint already hashes the network, so the lookup uses the
    fingerprint index alone (a plan that stays fast even before PostgreSQL has statistics for a young
    table)."""
    wanted = set(keys)
    fps = sorted({fp for _, fp in wanted})
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(fps), _IN_CHUNK):
        stmt = select(*_STATE_COLUMNS).where(Alert.fingerprint.in_(fps[start : start + _IN_CHUNK]))
        for row in (await session.execute(stmt)).mappings():
            key = (row["network"], row["fingerprint"])
            if key in wanted:
                found[key] = dict(row)
    return found


async def _load_histories(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    """The bounded history of these alerts, read only for alerts that get new occurrences (a repeated
    delivery never reads it). As text, parsed here: psycopg's json loader is ~6x slower than json.loads."""
    out: dict[int, list[dict[str, Any]]] = {}
    for start in range(0, len(ids), _IN_CHUNK):
        stmt = select(Alert.id, cast(Alert.history, Text)).where(Alert.id.in_(ids[start : start + _IN_CHUNK]))
        for alert_id, text in (await session.execute(stmt)).all():
            out[alert_id] = json.loads(text) if text else []
    return out


async def apply_findings(
    session: AsyncSession,
    findings: Sequence[Finding],
    clears: Sequence[Clear] = (),
    *,
    head: int | None,
    clock: Clock,
    policy: AlertPolicy | None = None,
) -> ApplyResult:
    """Upsert one alert per fingerprint (count, last seen, latest evidence, bounded history), refire
    resolved or retracted alerts, and resolve firing alerts named by ``clears``. A clear in the same
    call as findings of its fingerprint wins unless its block is older than the latest finding's."""
    policy = policy or AlertPolicy()
    now = clock.now()
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.network, f.fingerprint), []).append(f)
    clear_map = {(c.network, c.fingerprint): c for c in clears}
    existing = await _load_existing(session, {*groups, *clear_map})
    result = ApplyResult(occurrences=len(findings))
    state: dict[tuple[str, str], dict[str, Any]] = {}  # key -> full row (new) or changed columns (+ id)
    new_keys: list[tuple[str, str]] = []
    events: list[tuple[tuple[str, str], EventKind, dict[str, Any]]] = []

    occurrences: list[tuple[tuple[str, str], dict[str, Any]]] = []
    told: list[tuple[tuple[str, str], Finding]] = []  # repeats of one-off events that notify (rare)
    fresh = {
        key: _fresh(group, existing[key]["occurrence_key"] if key in existing else None)
        for key, group in groups.items()
    }
    histories = await _load_histories(
        session, sorted(existing[k]["id"] for k, g in fresh.items() if g and k in existing)
    )
    for key, group in fresh.items():
        row = existing.get(key)
        if not group:  # the same occurrence(s) delivered again: seen, nothing new
            state[key] = {"id": row["id"], "last_seen": now} if row else {}
            continue
        last = group[-1]
        severity = min(Severity(f.severity) for f in group)
        history = [_occurrence(f, now) for f in group[-policy.history_size :]]
        common = {
            "summary": last.summary,
            "labels": dict(last.labels),
            "evidence": jsonable(last.evidence),
            "tx_hashes": list(last.tx_hashes),
            "last_seen": now,
            "monitor": last.monitor,
        }
        keyed = [f.occurrence_key for f in group if f.occurrence_key is not None]
        if keyed:
            common["occurrence_key"] = keyed[-1][:100]
        opens = row is None or (
            row["status"] == AlertStatus.RESOLVED.value or row["confirmation"] == Confirmation.RETRACTED.value
        )
        first_kind = EventKind.FIRED if row is None else EventKind.REFIRED
        for i, f in enumerate(group):
            if opens and i == 0:
                occurrences.append((key, _occurrence_row(f, now, first_kind.value)))
            elif f.notify_repeats and not opens:  # already firing before this call (not in the fired notice)
                told.append((key, f))
            elif f.block is not None or f.occurrence_key is not None:
                occurrences.append((key, _occurrence_row(f, now, "repeat")))
        if row is None:
            state[key] = {
                "occurrence_key": None,
                **common,
                **_anchor(group, head),
                "network": key[0],
                "fingerprint": key[1],
                "severity": severity.value,
                "status": AlertStatus.FIRING.value,
                "count": len(group),
                "first_seen": now,
                "fired_at": now,
                "resolved_at": None,
                "ack_deadline": now + policy.deadline(severity),
                "history": history,
                "acknowledged_at": None,
                "acknowledged_by": None,
                "retraction_reason": None,
            }
            new_keys.append(key)
            events.append((key, EventKind.FIRED, {"count": len(group), **_written_once(group[0])}))
            continue
        merged_history = (histories.get(row["id"], []) + history)[-policy.history_size :]
        upd: dict[str, Any] = {
            **common,
            "id": row["id"],
            "count": row["count"] + len(group),
            "history": merged_history,
        }
        if opens:
            upd.update(_anchor(group, head))
            upd.update(
                status=AlertStatus.FIRING.value,
                severity=severity.value,
                fired_at=now,
                resolved_at=None,
                ack_deadline=now + policy.deadline(severity),
                acknowledged_at=None,
                acknowledged_by=None,
                retraction_reason=None,
            )
            previous = (
                row["confirmation"] if row["confirmation"] == Confirmation.RETRACTED.value else row["status"]
            )
            events.append(
                (
                    key,
                    EventKind.REFIRED,
                    {"count": upd["count"], "previous": previous, **_written_once(group[0])},
                )
            )
        elif severity < Severity(row["severity"]):
            upd["severity"] = severity.value
            upd["ack_deadline"] = min(row["ack_deadline"], row["fired_at"] + policy.deadline(severity))
        state[key] = upd

    for key, clear in clear_map.items():
        group_for_key = groups.get(key)
        if group_for_key and clear.block is not None:
            latest = max((f.block.number for f in group_for_key if f.block is not None), default=None)
            if latest is not None and clear.block.number < latest:
                continue
        current = {**existing.get(key, {}), **state.get(key, {})}
        if current.get("status") != AlertStatus.FIRING.value:
            continue
        resolved = {"status": AlertStatus.RESOLVED.value, "resolved_at": now}
        if key in state:
            state[key].update(resolved)
        else:
            state[key] = {"id": current["id"], **resolved}
        details: dict[str, Any] = {"block_number": clear.block.number} if clear.block else {}
        events.append((key, EventKind.RESOLVED, details))

    ids = {key: row["id"] for key, row in existing.items()}
    if new_keys:
        stmt = insert(Alert).returning(Alert.id, Alert.network, Alert.fingerprint)
        inserted = await session.execute(stmt, [state[k] for k in new_keys])
        ids.update({(r.network, r.fingerprint): r.id for r in inserted})
    new_set = set(new_keys)
    updates = [row for key, row in state.items() if key not in new_set and row]
    # repeated deliveries only touch last_seen, to the same value: one UPDATE ... WHERE id IN (...)
    seen_only = sorted(row["id"] for row in updates if row.keys() == {"id", "last_seen"})
    for start in range(0, len(seen_only), _IN_CHUNK):
        chunk = seen_only[start : start + _IN_CHUNK]
        await session.execute(
            update(Alert)
            .where(Alert.id.in_(chunk))
            .values(last_seen=now)
            .execution_options(synchronize_session=False)
        )
    changed = [row for row in updates if row.keys() != {"id", "last_seen"}]
    if changed:
        await session.execute(update(Alert), changed)
    # an episode's first occurrences (one per alert) with RETURNING, by alert id (no parameter order needed:
    # SQLite would then insert row by row), before the repeats, which need no ids back
    first_occurrence: dict[int, int] = {}
    rows = [{"alert_id": ids[key], "network": key[0], **occ} for key, occ in occurrences]
    firsts = [r for r in rows if r["kind"] != "repeat"]
    if firsts:
        occ_stmt = insert(AlertOccurrence).returning(AlertOccurrence.id, AlertOccurrence.alert_id)
        first_occurrence = {r.alert_id: r.id for r in await session.execute(occ_stmt, firsts)}
    repeats = [r for r in rows if r["kind"] == "repeat"]
    if repeats:
        await session.execute(insert(AlertOccurrence), repeats)
    # a repeat that notifies: its own occurrence row (id back, one by one) and a ``repeated`` change
    for key, f in told:
        row = {"alert_id": ids[key], "network": key[0], **_occurrence_row(f, now, "repeat")}
        occ_id = (
            await session.execute(insert(AlertOccurrence).returning(AlertOccurrence.id), row)
        ).scalar_one()
        count = {**existing.get(key, {}), **state[key]}["count"]
        events.append(
            (key, EventKind.REPEATED, {"count": count, "occurrence_id": occ_id, **_written_once(f)})
        )
    for key, kind, details in events:
        if kind in (EventKind.FIRED, EventKind.REFIRED) and ids[key] in first_occurrence:
            details["occurrence_id"] = first_occurrence[ids[key]]
    if events:
        await session.execute(
            insert(AlertEvent),
            [{"alert_id": ids[key], "kind": kind.value, "at": now, "details": d} for key, kind, d in events],
        )
    for key, kind, details in events:
        final = {**existing.get(key, {}), **state[key]}
        result.changes.append(
            AlertChange(
                ids[key],
                key[0],
                key[1],
                kind,
                Severity(final["severity"]),
                Confirmation(final["confirmation"]),
                occurrence_id=details.get("occurrence_id") if kind == EventKind.REPEATED else None,
            )
        )
    return result
