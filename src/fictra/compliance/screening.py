"""Screening: the index of the lists in force, hits (open → closed when delisted, or false positive),
re-screening of every known address and name when a list version changes, and dispositions.

The hits table is the source of truth; the screening monitor turns hits it has not alerted yet into
findings and closed hits into clears (``alerted``/``cleared``), so a re-screen run from the CLI while the
platform is down still reaches the alert store at the next block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import record
from fictra.clock import Clock
from fictra.compliance.models import (
    KnownAddress,
    KycRecord,
    ListEntryRow,
    ListVersion,
    ScreeningHit,
    Suppression,
)
from fictra.compliance.names import NameIndex
from fictra.errors import ConflictError, NotFoundError, UsageError

__all__ = ["Listed", "RescreenResult", "ScreeningIndex", "dispose", "load_index", "open_hit", "rescreen"]

OPEN, CLOSED, FALSE_POSITIVE = "open", "closed", "false_positive"


@dataclass(frozen=True)
class Listed:
    list_name: str
    version_id: int
    version: int
    key: str
    name: str
    programs: tuple[str, ...]


@dataclass
class ScreeningIndex:
    """The lists in force: addresses → listed entries, and every listed name for fuzzy matching."""

    versions: tuple[int, ...] = ()
    addresses: dict[str, list[Listed]] = field(default_factory=dict)
    names: NameIndex = field(default_factory=NameIndex)
    labels: dict[int, str] = field(default_factory=dict)  # version id -> "list vN"
    entries: dict[tuple[str, str], Listed] = field(default_factory=dict)  # (list, key) -> entry


async def active_version_ids(session: AsyncSession) -> tuple[int, ...]:
    rows = await session.scalars(select(ListVersion.id).where(ListVersion.superseded_at.is_(None)))
    return tuple(sorted(rows.all()))


async def load_index(session: AsyncSession) -> ScreeningIndex:
    versions = {
        v.id: v
        for v in (await session.scalars(select(ListVersion).where(ListVersion.superseded_at.is_(None)))).all()
    }
    index = ScreeningIndex(versions=tuple(sorted(versions)))
    index.labels = {vid: f"{v.list_name} v{v.version}" for vid, v in versions.items()}
    if not versions:
        return index
    rows = await session.execute(
        select(
            ListEntryRow.version_id,
            ListEntryRow.key,
            ListEntryRow.name,
            ListEntryRow.aliases,
            ListEntryRow.addresses,
            ListEntryRow.programs,
        ).where(ListEntryRow.version_id.in_(list(versions)))
    )
    for version_id, key, name, aliases, addresses, programs in rows.all():
        v = versions[version_id]
        listed = Listed(v.list_name, version_id, v.version, key, name, tuple(programs))
        index.entries[(v.list_name, key)] = listed
        for address in addresses:
            index.addresses.setdefault(address, []).append(listed)
        if v.format != "threat":  # threat lists name addresses, not parties
            index.names.add(list_name=v.list_name, version_id=version_id, key=key, name=name, aliases=aliases)
    return index


async def _suppressed(session: AsyncSession, version_id: int, key: str, subject: str) -> bool:
    found = await session.scalar(
        select(Suppression.id).where(
            Suppression.version_id == version_id, Suppression.entry_key == key, Suppression.subject == subject
        )
    )
    return found is not None


async def open_hit(
    session: AsyncSession,
    *,
    kind: str,
    subject: str,
    listed: Listed,
    score: float,
    evidence: dict[str, object],
    clock: Clock,
    block: tuple[int, str] | None = None,
    tx_hash: str | None = None,
) -> ScreeningHit | None:
    """A new open hit for (kind, subject, list, entry), or None when one is open or the pair is suppressed
    for this list version. An open hit of an older version moves to this version."""
    existing = await session.scalar(
        select(ScreeningHit).where(
            ScreeningHit.kind == kind,
            ScreeningHit.subject == subject,
            ScreeningHit.list_name == listed.list_name,
            ScreeningHit.entry_key == listed.key,
            ScreeningHit.state == OPEN,
        )
    )
    if existing is not None:
        if existing.version_id != listed.version_id:
            existing.version_id = listed.version_id
        return None
    if await _suppressed(session, listed.version_id, listed.key, subject):
        return None
    hit = ScreeningHit(
        kind=kind,
        subject=subject,
        list_name=listed.list_name,
        version_id=listed.version_id,
        entry_key=listed.key,
        entry_name=listed.name,
        score=score,
        state=OPEN,
        evidence={"list_version": listed.version, "programs": list(listed.programs), **evidence},
        block_number=block[0] if block else None,
        block_hash=block[1] if block else None,
        tx_hash=tx_hash,
        first_seen_at=clock.now(),
        alerted=False,
        cleared=False,
    )
    session.add(hit)
    await session.flush()
    await record(
        session,
        actor="system",
        action="compliance.hit_open",
        target=f"hit:{hit.id}",
        after={
            "kind": kind,
            "subject": subject,
            "list": listed.list_name,
            "version": listed.version,
            "entry": listed.key,
            "score": score,
        },
        clock=clock,
    )
    return hit


@dataclass
class RescreenResult:
    addresses: int = 0
    names: int = 0
    opened: list[int] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)


async def rescreen(
    session: AsyncSession, *, index: ScreeningIndex, threshold: float, clock: Clock, actor: object = "system"
) -> RescreenResult:
    """Screen every known address and every KYC name against ``index``; close open hits whose entry is no
    longer listed (or no longer matches). One audit entry with the counts."""
    result = RescreenResult()
    matched: set[tuple[str, str, str, str]] = set()
    known = (await session.scalars(select(KnownAddress.address))).all()
    kyc = (await session.scalars(select(KycRecord))).all()
    result.addresses = len(known) + sum(len(r.addresses) for r in kyc)
    for address in {*known, *(a for r in kyc for a in r.addresses)}:
        for listed in index.addresses.get(address, ()):
            matched.add(("address", address, listed.list_name, listed.key))
            hit = await open_hit(
                session,
                kind="address",
                subject=address,
                listed=listed,
                score=1.0,
                evidence={"source": "re-screen", "entry_name": listed.name},
                clock=clock,
            )
            if hit is not None:
                result.opened.append(hit.id)
    matches = index.names.match_many([rec.name for rec in kyc], threshold=threshold)
    for rec, found in zip(kyc, matches, strict=True):
        result.names += 1
        for m in found:
            listed = index.entries[(m.list_name, m.entry_key)]
            matched.add(("name", rec.name, m.list_name, m.entry_key))
            hit = await open_hit(
                session,
                kind="name",
                subject=rec.name,
                listed=listed,
                score=m.score,
                evidence={
                    "source": "re-screen",
                    "participant": rec.participant,
                    "matched": m.matched,
                    "entry_name": m.entry_name,
                    "threshold": threshold,
                },
                clock=clock,
            )
            if hit is not None:
                result.opened.append(hit.id)
    now = clock.now()
    for hit in (await session.scalars(select(ScreeningHit).where(ScreeningHit.state == OPEN))).all():
        if (hit.kind, hit.subject, hit.list_name, hit.entry_key) in matched:
            continue
        hit.state, hit.closed_at, hit.closed_by = CLOSED, now, "system"
        hit.closed_reason = "no longer listed in the version in force (re-screen)"
        result.closed.append(hit.id)
    await record(
        session,
        actor=actor,
        action="compliance.rescreen",
        target="lists",
        after={
            "versions": list(index.versions),
            "addresses": result.addresses,
            "names": result.names,
            "opened": result.opened[:200],
            "closed": result.closed[:200],
        },
        clock=clock,
    )
    await session.flush()
    return result


async def dispose(
    session: AsyncSession, *, hit_id: int, reason: str, actor: object, clock: Clock
) -> ScreeningHit:
    """Disposition an open hit as a false positive: the pair is suppressed for that list version."""
    reason = reason.strip()
    if len(reason) < 3:
        raise UsageError("A false-positive disposition needs a reason (at least 3 characters).")
    hit = await session.get(ScreeningHit, hit_id, with_for_update=True)
    if hit is None:
        raise NotFoundError(f"No screening hit {hit_id}.")
    if hit.state != OPEN:
        raise ConflictError(f"Hit {hit_id} is {hit.state}; only an open hit can be dispositioned.")
    who = getattr(actor, "username", str(actor))
    hit.state, hit.closed_at, hit.closed_by, hit.closed_reason = FALSE_POSITIVE, clock.now(), who, reason
    session.add(
        Suppression(
            list_name=hit.list_name,
            version_id=hit.version_id,
            entry_key=hit.entry_key,
            subject=hit.subject,
            reason=reason,
            created_by=who,
            created_at=clock.now(),
        )
    )
    await record(
        session,
        actor=actor,
        action="compliance.hit_false_positive",
        target=f"hit:{hit.id}",
        before={"state": OPEN},
        after={
            "state": FALSE_POSITIVE,
            "list": hit.list_name,
            "version_id": hit.version_id,
            "entry": hit.entry_key,
            "subject": hit.subject,
        },
        reason=reason,
        clock=clock,
    )
    await session.flush()
    return hit
