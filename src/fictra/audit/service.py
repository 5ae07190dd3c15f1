"""Appending to the audit log and reading it back.

:func:`record` is what every state change calls, inside the caller's transaction, so the change and its
audit entry commit (or roll back) together. Appends are serialised on the ``audit_head`` row: the first
statement of an append is an ``UPDATE ... RETURNING`` of that row, which takes a row lock on
PostgreSQL (other appenders wait until this transaction ends) and the write lock on SQLite. So there is
one chain, never a fork, whatever the number of writers.

With the database's seal key registered (:mod:`fictra.audit.seal`), the entry and the head row get
their keyed seal in the same statements: two HMAC-SHA256 computations, a few microseconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.canonical import entry_hash, jsonable
from fictra.audit.models import AuditEntry, AuditHead
from fictra.audit.seal import key_for
from fictra.clock import Clock
from fictra.errors import NotFoundError, StorageError, UsageError

__all__ = ["actor_name", "count_entries", "get_entry", "head", "list_entries", "record"]

_HEAD_ID = 1
_LIMITS = {"actor": 200, "action": 100, "target": 300}


def actor_name(actor: object) -> str:
    """The name recorded for ``actor``: a plain string, or the ``username`` of an auth Actor."""
    if isinstance(actor, str):
        return actor
    name = getattr(actor, "username", None)
    if isinstance(name, str):
        return name
    raise UsageError(f"Audit actor {type(actor).__name__} has no username; pass an Actor or a string.")


def _check(field: str, value: str) -> str:
    if not value or not value.strip():
        raise UsageError(f"Audit entry field '{field}' is empty; every entry names its {field}.")
    if "\x00" in value:
        raise UsageError(f"Audit entry field '{field}' contains a NUL character; remove it.")
    if len(value) > _LIMITS[field]:
        raise UsageError(
            f"Audit entry field '{field}' is {len(value)} characters ('{value[:40]}…'); "
            f"the limit is {_LIMITS[field]}."
        )
    return value


async def record(
    session: AsyncSession,
    *,
    actor: object,
    action: str,
    target: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    reason: str | None = None,
    clock: Clock,
) -> AuditEntry:
    """Append one hash-chained entry in the caller's transaction and return it (written, not committed).

    ``actor`` is a :class:`fictra.auth.deps.Actor` (its ``username`` is recorded) or a plain string;
    ``action`` is dotted ("alert.acknowledge"); ``target`` names the object ("alert:42");
    ``before``/``after`` are JSON-able mappings of the changed state.
    """
    name = _check("actor", actor_name(actor))
    _check("action", action)
    _check("target", target)
    if reason is not None and "\x00" in reason:
        raise UsageError("Audit entry field 'reason' contains a NUL character; remove it.")
    before_doc = None if before is None else jsonable(before)
    after_doc = None if after is None else jsonable(after)
    at = clock.now()
    table = cast(Table, AuditHead.__table__)
    locked = (
        await session.execute(
            update(table)
            .where(table.c.id == _HEAD_ID)
            .values(size=table.c.size + 1)
            .returning(table.c.size, table.c.head_hash)
        )
    ).one_or_none()
    if locked is None:
        raise StorageError(
            "The audit log has no head row (table audit_head, id 1). The database was not migrated or "
            "was altered; run `fictra audit verify` and restore from a backup."
        )
    index = int(locked.size) - 1
    prev = str(locked.head_hash)
    digest = entry_hash(
        index=index,
        at=at,
        actor=name,
        action=action,
        target=target,
        before=before_doc,
        after=after_doc,
        reason=reason,
        prev_hash=prev,
    )
    seal = key_for(session)
    values = {
        "idx": index,
        "at": at,
        "actor": name,
        "action": action,
        "target": target,
        "before": before_doc,
        "after": after_doc,
        "reason": reason,
        "prev_hash": prev,
        "entry_hash": digest,
        "mac": None if seal is None else seal.entry(index=index, entry_hash=digest),
    }
    head_mac = None if seal is None else seal.head(size=index + 1, head_hash=digest)
    await session.execute(insert(cast(Table, AuditEntry.__table__)).values(**values))
    await session.execute(update(table).where(table.c.id == _HEAD_ID).values(head_hash=digest, mac=head_mac))
    return AuditEntry(**values)  # detached: the row is written, the caller's session does not track it


async def head_mac(session: AsyncSession) -> str | None:
    """The head row's seal (None: written without a key)."""
    return (await session.execute(select(AuditHead.mac).where(AuditHead.id == _HEAD_ID))).scalar_one_or_none()


async def head(session: AsyncSession) -> tuple[int, str]:
    """(size, last hash) of the chain as the head row records it."""
    row = (
        await session.execute(select(AuditHead.size, AuditHead.head_hash).where(AuditHead.id == 1))
    ).one_or_none()
    if row is None:
        raise StorageError(
            "The audit log has no head row (table audit_head, id 1); run `fictra audit verify`."
        )
    return int(row.size), str(row.head_hash)


async def count_entries(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one())


async def list_entries(
    session: AsyncSession,
    *,
    limit: int = 50,
    before_index: int | None = None,
    action: str | None = None,
    actor: str | None = None,
    target: str | None = None,
) -> Sequence[AuditEntry]:
    """Entries newest first. ``action`` ending in ``.*`` matches a prefix ("alert.*"); ``before_index``
    pages back (entries with a smaller index)."""
    query = select(AuditEntry).order_by(AuditEntry.idx.desc()).limit(max(1, min(limit, 1000)))
    if before_index is not None:
        query = query.where(AuditEntry.idx < before_index)
    if action:
        if action.endswith(".*"):
            query = query.where(AuditEntry.action.startswith(action[:-1], autoescape=True))
        else:
            query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if target:
        query = query.where(AuditEntry.target == target)
    return (await session.execute(query)).scalars().all()


async def get_entry(session: AsyncSession, index: int) -> AuditEntry:
    entry = await session.get(AuditEntry, index)
    if entry is None:
        size, _ = await head(session)
        raise NotFoundError(f"No audit entry with index {index}; the log has {size} entries (0..{size - 1}).")
    return entry
