"""Restore a backup into a database, refused while a platform uses it.

The running-platform signal (:func:`in_use`), read from the target database itself so that it holds
whichever host the platform runs on:

- a live job lease: a row of ``job_leases`` with a holder and ``expires_at`` in the future (a scheduler
  is running one of its jobs right now and renews the lease every third of its length), or
- a fresh follower checkpoint: a ``chain_checkpoint`` row updated within ``window`` (default 120 s; the
  follower writes it at every block it processes).

A platform stopped cleanly frees its leases; one killed leaves them until they expire (60 s by default),
and its checkpoint ages out of the window: wait, or pass a smaller window.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import inspect, select

from fictra.audit.seal import register
from fictra.audit.service import record
from fictra.backup import postgres, sqlite
from fictra.backup.manifest import Manifest, read_manifest, resolve, sha256_of
from fictra.chain.models import ChainCheckpoint
from fictra.clock import Clock
from fictra.db.engine import make_engine, session_factory
from fictra.errors import ConflictError, UsageError
from fictra.jobs.models import JobLease
from fictra.jobs.store import release_all_leases

DEFAULT_WINDOW = timedelta(seconds=120)


@dataclass(frozen=True)
class Restored:
    target: str
    manifest: Manifest


def _target_exists(url: str) -> bool:
    if url.startswith("sqlite"):
        path = sqlite.sqlite_path(url)
        return path.is_file() and path.stat().st_size > 0
    return postgres.has_tables(url)


async def in_use(*, database_url: str, clock: Clock, window: timedelta = DEFAULT_WINDOW) -> str | None:
    """Why a platform seems to use the database now (one line), or None."""
    if not _target_exists(database_url):
        return None
    now = clock.now()
    engine = make_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            conn = await session.connection()
            tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
            if JobLease.__tablename__ in tables:
                lease = (
                    await session.execute(
                        select(JobLease.job, JobLease.holder, JobLease.expires_at)
                        .where(JobLease.holder.is_not(None), JobLease.expires_at > now)
                        .limit(1)
                    )
                ).first()
                if lease is not None:
                    return (
                        f"job '{lease.job}' is leased by {lease.holder} until {lease.expires_at.isoformat()} "
                        "(a platform is running)"
                    )
            if ChainCheckpoint.__tablename__ in tables:
                fresh = (
                    await session.execute(
                        select(ChainCheckpoint.network, ChainCheckpoint.updated_at)
                        .where(ChainCheckpoint.updated_at > now - window)
                        .limit(1)
                    )
                ).first()
                if fresh is not None:
                    age = int((now - fresh.updated_at).total_seconds())
                    return (
                        f"the follower's checkpoint on '{fresh.network}' was updated {age}s ago "
                        f"(within {int(window.total_seconds())}s: a platform is running)"
                    )
    finally:
        await engine.dispose()
    return None


async def restore_backup(
    *,
    backup: Path,
    into: str,
    clock: Clock,
    yes: bool = False,
    window: timedelta = DEFAULT_WINDOW,
    data_dir: Path | None = None,
    actor: str = "system",
) -> Restored:
    """Replace the database ``into`` with the backup (the file or its manifest): refused while a
    platform uses it (:func:`in_use`) and, unless ``yes``, when it holds data. Atomic: a SQLite file is
    restored beside the target and renamed over it; ``pg_restore`` runs in one transaction. The restore
    is recorded (``backup.restore``) in the restored database's audit log."""
    file, manifest_file = resolve(backup)
    manifest = read_manifest(manifest_file)
    digest = sha256_of(file)
    if digest != manifest.sha256:
        raise UsageError(
            f"Backup {file.name} refused: sha256 mismatch (the file hashes to {digest[:16]}…, the manifest "
            f"says {manifest.sha256[:16]}…)."
        )
    kind = "sqlite" if into.startswith("sqlite") else "postgresql" if into.startswith("postgresql") else into
    if kind != manifest.database:
        raise UsageError(
            f"Backup {file.name} is a {manifest.database} backup; it cannot restore into {kind}."
        )
    busy = await in_use(database_url=into, clock=clock, window=window)
    if busy is not None:
        raise ConflictError(
            f"Restore refused: the target database is in use — {busy}. Stop the platform first."
        )
    exists = _target_exists(into)
    if exists and not yes:
        raise ConflictError(
            "Restore refused: the target database holds data; pass --yes to replace it with the backup."
        )
    if kind == "sqlite":
        sqlite.replace(source=file, target=sqlite.sqlite_path(into))
    else:
        schema = postgres.schema_of(into)
        if schema != manifest.pg_schema:
            raise UsageError(
                f"Backup {file.name} holds schema '{manifest.pg_schema or 'the whole database'}'; the target "
                f"URL selects '{schema or 'the whole database'}'. Restore into a URL with the same "
                "search_path."
            )
        await asyncio.to_thread(postgres.restore, url=into, source=file, clean=True)
    if data_dir is not None:
        register(database_url=into, data_dir=data_dir)
    engine = make_engine(into)
    try:
        async with session_factory(engine).begin() as session:
            # the copy holds the job leases of the site it was taken from; that site is not running on
            # this database (checked above), so its leases are stale: free them, or the new site would
            # wait for them to expire before its outbox, escalation tick... may run
            freed = await release_all_leases(session)
            await record(
                session,
                actor=actor,
                action="backup.restore",
                target=f"backup:{file.name}",
                after={
                    "sha256": manifest.sha256,
                    "audit_size": manifest.snapshot.audit_head.size,
                    "stale_job_leases_freed": freed,
                },
                clock=clock,
            )
    finally:
        await engine.dispose()
    return Restored(target=into, manifest=manifest)
