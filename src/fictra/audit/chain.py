"""Walking the hash chain: the first entry that does not fit, and what was most likely done to it.

Each stored row must sit at its position (``idx`` 0, 1, 2...), hash to its ``entry_hash`` and link to
its predecessor's hash. The first row that does not is the first bad index; the kind of tampering is
diagnosed from how it fails:

- a gap in the indices, or a row whose hash fits the *next* index: an entry was **deleted**;
- a row whose hash fits the next index while the next row's fits this one: two entries were
  **reordered**;
- a row whose hash fits the *previous* index and links to the entry two back: an entry was
  **inserted** before it (and the rest renumbered);
- a row whose contents no longer give its hash: it was **modified**; a row that is intact but links to
  a hash its predecessor no longer has: the predecessor was modified and re-hashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.canonical import entry_hash
from fictra.audit.models import GENESIS_HASH, AuditEntry

PAGE = 1000


@dataclass(frozen=True)
class ChainFault:
    index: int
    kind: str  # modified | deleted | inserted | reordered
    message: str


def rehash(row: Any, *, index: int | None = None) -> str:
    """The hash ``row`` should have at ``index`` (default: its own) with its own ``prev_hash``."""
    return entry_hash(
        index=row.idx if index is None else index,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target=row.target,
        before=row.before,
        after=row.after,
        reason=row.reason,
        prev_hash=row.prev_hash,
    )


_COLUMNS = tuple(AuditEntry.__table__.c)


async def _row(session: AsyncSession, index: int) -> Row[Any] | None:
    return (await session.execute(select(*_COLUMNS).where(AuditEntry.idx == index))).one_or_none()


async def _hash_at(session: AsyncSession, index: int) -> str | None:
    if index < 0:
        return GENESIS_HASH
    row = await session.execute(select(AuditEntry.entry_hash).where(AuditEntry.idx == index))
    return row.scalar_one_or_none()


async def walk(
    session: AsyncSession, *, start: int = 0, stop: int | None = None
) -> tuple[int, ChainFault | None]:
    """Check entries ``[start, stop)`` (all from ``start`` when ``stop`` is None); entries before
    ``start`` are trusted (a verified checkpoint covers them). Returns (rows checked, first fault)."""
    prev1 = await _hash_at(session, start - 1)
    prev2 = await _hash_at(session, start - 2)
    if prev1 is None:
        return 0, ChainFault(start - 1, "deleted", f"Entry {start - 1} is missing.")
    position, checked = start, 0
    while stop is None or position < stop:
        query = select(*_COLUMNS).where(AuditEntry.idx >= position).order_by(AuditEntry.idx)
        limit = PAGE if stop is None else min(PAGE, stop - position)
        rows = (await session.execute(query.limit(limit))).all()
        if not rows:
            break
        for row in rows:
            if row.idx != position:
                return checked, ChainFault(
                    position,
                    "deleted",
                    f"Entry {position} is missing: the next stored entry is {row.idx}.",
                )
            own_ok = rehash(row) == row.entry_hash
            if own_ok and row.prev_hash == prev1:
                prev2, prev1 = prev1, row.entry_hash
                position += 1
                checked += 1
                continue
            return checked, await _diagnose(session, row, position, own_ok, prev1, prev2)
    return checked, None


async def _diagnose(
    session: AsyncSession, row: Row[Any], p: int, own_ok: bool, prev1: str, prev2: str | None
) -> ChainFault:
    if own_ok:
        if p == 0:
            return ChainFault(
                0, "modified", "Entry 0 does not start the chain (its prev_hash is not the genesis)."
            )
        if row.prev_hash == prev2:
            return ChainFault(
                p - 1, "inserted", f"Entry {p - 1} was inserted: entry {p} links past it to entry {p - 2}."
            )
        return ChainFault(
            p - 1,
            "modified",
            f"Entry {p - 1} was modified and re-hashed: entry {p} still links to its original hash.",
        )
    if p >= 1 and row.prev_hash == prev2 and rehash(row, index=p - 1) == row.entry_hash:
        return ChainFault(
            p - 1,
            "inserted",
            f"Entry {p - 1} was inserted: the entry now at {p} was hashed as entry {p - 1} and links to "
            f"entry {p - 2} (the entries after it were renumbered).",
        )
    if rehash(row, index=p + 1) == row.entry_hash:
        following = await _row(session, p + 1)
        if following is not None and rehash(following, index=p) == following.entry_hash:
            return ChainFault(p, "reordered", f"Entries {p} and {p + 1} were swapped (reordered).")
        return ChainFault(
            p,
            "deleted",
            f"Entry {p} was deleted: the entry now at {p} was hashed as entry {p + 1} (the entries after it "
            "were renumbered).",
        )
    return ChainFault(p, "modified", f"Entry {p} was modified: its contents no longer give its stored hash.")
