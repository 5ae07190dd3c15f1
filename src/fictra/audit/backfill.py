"""Sealing a log written before seals existed (``fictra audit seal``): a one-time operator step.

Only the unsealed entries *before* the first sealed one are sealed (a log from before the upgrade), and
only when the chain walks cleanly and every signed checkpoint's root still matches: sealing never
blesses a log that already fails verification. An unsealed entry after a sealed one is not an old
entry: its seal was removed, and that is reported, not repaired.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit import merkle
from fictra.audit.chain import walk
from fictra.audit.checkpoints import leaves, list_checkpoints
from fictra.audit.models import AuditEntry, AuditHead
from fictra.audit.seal import SealKey
from fictra.audit.service import head
from fictra.errors import ConflictError


async def seal_unsealed(session: AsyncSession, *, seal: SealKey) -> int:
    """Seal the entries (and the head) of a log from before seals; returns how many entries were sealed."""
    _, fault = await walk(session)
    if fault is not None:
        raise ConflictError(
            f"The audit log fails verification at index {fault.index}: {fault.message} Nothing was sealed."
        )
    tree = await leaves(session)
    for cp in await list_checkpoints(session):
        if cp.tree_size > len(tree) or merkle.root(tree[: cp.tree_size]).hex() != cp.root_hash:
            raise ConflictError(
                f"Checkpoint #{cp.id} (tree size {cp.tree_size}) does not match the stored entries. "
                "Run `fictra audit verify`; nothing was sealed."
            )
    first_sealed = (
        await session.execute(select(func.min(AuditEntry.idx)).where(AuditEntry.mac.is_not(None)))
    ).scalar_one_or_none()
    if first_sealed is not None:
        later = (
            await session.execute(
                select(func.min(AuditEntry.idx)).where(
                    AuditEntry.mac.is_(None), AuditEntry.idx > first_sealed
                )
            )
        ).scalar_one_or_none()
        if later is not None:
            raise ConflictError(
                f"Entry {later} has no seal but comes after sealed entry {first_sealed}: its seal was "
                "removed. Run `fictra audit verify`; nothing was sealed."
            )
    query = select(AuditEntry.idx, AuditEntry.entry_hash).where(AuditEntry.mac.is_(None))
    rows = (await session.execute(query.order_by(AuditEntry.idx))).all()
    table = cast(Table, AuditEntry.__table__)
    for idx, entry_hash in rows:
        await session.execute(
            update(table).where(table.c.idx == idx).values(mac=seal.entry(index=idx, entry_hash=entry_hash))
        )
    size, head_hash = await head(session)
    if size == len(tree):
        head_table = cast(Table, AuditHead.__table__)
        await session.execute(
            update(head_table)
            .where(head_table.c.id == 1)
            .values(mac=seal.head(size=size, head_hash=head_hash))
        )
    return len(rows)
