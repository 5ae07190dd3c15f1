"""Importing a list: parse → diff against the version in force → store the new snapshot → re-screen, all in
the caller's transaction, with the file's sha256 and the diff in the audit log.

A file that cannot be parsed raises :class:`~fictra.compliance.formats.ListRefused` before anything is
written, so the previous version stays in force. Importing the same bytes again is refused (nothing
changed). :func:`diff_entries` is pure.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import record
from fictra.clock import Clock
from fictra.compliance.formats import FORMATS, ListEntry, parse
from fictra.compliance.models import ListEntryRow, ListVersion
from fictra.errors import ConflictError, NotFoundError, UsageError

__all__ = ["Diff", "ImportResult", "active_versions", "diff_entries", "import_list", "version_entries"]

_LIST_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
MAX_BYTES = 200_000_000


@dataclass(frozen=True)
class Diff:
    added: list[dict[str, object]]
    removed: list[dict[str, object]]
    changed: list[dict[str, object]]

    def as_json(self) -> dict[str, object]:
        return {"added": self.added, "removed": self.removed, "changed": self.changed}

    @property
    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "removed": len(self.removed), "changed": len(self.changed)}


def _brief(key: str, name: str, addresses: list[str] | tuple[str, ...]) -> dict[str, object]:
    return {"key": key, "name": name, "addresses": sorted(addresses)}


def diff_entries(old: dict[str, tuple[str, str, list[str]]], new: list[ListEntry]) -> Diff:
    """``old``: key → (digest, name, addresses) of the version in force; ``new``: the parsed entries."""
    new_keys = {e.key: e for e in new}
    added = [_brief(e.key, e.name, e.addresses) for e in new if e.key not in old]
    removed = [_brief(k, name, addrs) for k, (_, name, addrs) in sorted(old.items()) if k not in new_keys]
    changed = []
    for e in new:
        before = old.get(e.key)
        if before is not None and before[0] != e.digest:
            item = _brief(e.key, e.name, e.addresses)
            gone = sorted(set(before[2]) - set(e.addresses))
            came = sorted(set(e.addresses) - set(before[2]))
            item.update({"addresses_added": came, "addresses_removed": gone, "name_before": before[1]})
            changed.append(item)
    return Diff(added=sorted(added, key=lambda d: str(d["key"])), removed=removed, changed=changed)


@dataclass(frozen=True)
class ImportResult:
    version: ListVersion
    diff: Diff


async def active_versions(session: AsyncSession) -> list[ListVersion]:
    """The version in force of every list."""
    rows = await session.scalars(
        select(ListVersion).where(ListVersion.superseded_at.is_(None)).order_by(ListVersion.list_name)
    )
    return list(rows.all())


async def version_entries(session: AsyncSession, version_id: int) -> list[ListEntryRow]:
    rows = await session.scalars(
        select(ListEntryRow).where(ListEntryRow.version_id == version_id).order_by(ListEntryRow.id)
    )
    return list(rows.all())


async def get_version(session: AsyncSession, *, list_name: str, version: int | None = None) -> ListVersion:
    stmt = select(ListVersion).where(ListVersion.list_name == list_name)
    stmt = stmt.where(ListVersion.version == version) if version is not None else stmt
    found = await session.scalar(stmt.order_by(ListVersion.version.desc()).limit(1))
    if found is None:
        which = f"version {version} of list '{list_name}'" if version is not None else f"list '{list_name}'"
        raise NotFoundError(f"No {which}; see `fictra compliance lists show`.")
    return found


async def import_list(
    session: AsyncSession,
    *,
    list_name: str,
    fmt: str,
    data: bytes,
    file_name: str,
    actor: object,
    clock: Clock,
) -> ImportResult:
    """Parse ``data`` and make it the version in force of ``list_name``; audited with sha256 and diff."""
    if not _LIST_NAME.match(list_name):
        raise UsageError(f"List name '{list_name[:80]}' is not valid: use 1-64 of a-z, 0-9, '_', '.', '-'.")
    if fmt not in FORMATS:
        raise UsageError(f"Unknown list format '{fmt}'; expected one of: {', '.join(FORMATS)}.")
    if len(data) > MAX_BYTES:
        raise UsageError(f"{file_name}: {len(data)} bytes is more than the {MAX_BYTES} accepted.")
    entries = parse(fmt, data, path=file_name)
    sha = hashlib.sha256(data).hexdigest()
    current = await session.scalar(
        select(ListVersion)
        .where(ListVersion.list_name == list_name, ListVersion.superseded_at.is_(None))
        .with_for_update()
    )
    old: dict[str, tuple[str, str, list[str]]] = {}
    if current is not None:
        if current.sha256 == sha:
            raise ConflictError(
                f"{file_name}: identical to version {current.version} of '{list_name}' (sha256 {sha[:12]}…); "
                "nothing to import."
            )
        if current.format != fmt:
            raise UsageError(
                f"List '{list_name}' is in format '{current.format}', not '{fmt}'; use another list name."
            )
        for row in await version_entries(session, current.id):
            old[row.key] = (row.digest, row.name, list(row.addresses))
    dupes = len(entries) - len({e.key for e in entries})
    if dupes:
        raise UsageError(f"{file_name}: {dupes} entries share a key; the list was not imported.")
    diff = diff_entries(old, entries)
    now = clock.now()
    version = ListVersion(
        list_name=list_name,
        format=fmt,
        version=(current.version + 1) if current is not None else 1,
        sha256=sha,
        file_name=Path(file_name).name[:300],
        entry_count=len(entries),
        address_count=sum(len(e.addresses) for e in entries),
        diff=diff.as_json(),
        imported_by=getattr(actor, "username", str(actor)),
        imported_at=now,
    )
    if current is not None:
        current.superseded_at = now
    session.add(version)
    await session.flush()
    rows = [
        {
            "version_id": version.id,
            "key": e.key[:200],
            "name": e.name[:500],
            "kind": e.kind,
            "aliases": list(e.aliases),
            "addresses": list(e.addresses),
            "programs": list(e.programs),
            "digest": e.digest,
            "line": e.line,
        }
        for e in entries
    ]
    for start in range(0, len(rows), 5_000):  # executemany in chunks (20,000-entry lists)
        await session.execute(insert(ListEntryRow), rows[start : start + 5_000])
    await record(
        session,
        actor=actor,
        action="compliance.list_import",
        target=f"list:{list_name}:{version.version}",
        before={"version": current.version, "sha256": current.sha256} if current is not None else None,
        after={
            "format": fmt,
            "file": version.file_name,
            "sha256": sha,
            "entries": version.entry_count,
            "addresses": version.address_count,
            "diff": diff.counts,
            "added": [d["key"] for d in diff.added][:200],
            "removed": [d["key"] for d in diff.removed][:200],
            "changed": [d["key"] for d in diff.changed][:200],
        },
        clock=clock,
    )
    await session.flush()
    return ImportResult(version=version, diff=diff)
