"""What the backup checks (``backup_fresh``, ``restore_drill`` of :mod:`fictra.procedures.checks`) are given.

Procedures never import :mod:`fictra.backup` (a sibling domain): the integrator passes its functions in as
:class:`BackupTools` (``CheckContext.backups``), e.g.::

    BackupTools(
        directory=settings.data_dir / "backups",
        list_backups=fictra.backup.create.list_backups,
        manifest_of=lambda p: read_manifest(manifest_path(p)),  # fictra.backup.manifest
        sha256_of=fictra.backup.manifest.sha256_of,
        verify=lambda p: verify_backup(backup=p, data_dir=settings.data_dir,
                                       database_url=settings.resolved_database_url()),
    )

``backup_fresh``: the newest backup is younger than ``max_age_h`` hours (default 26: a daily backup plus
slack) by its manifest's ``created_at``, and the file's sha256 equals the manifest's. ``restore_drill``:
the newest backup verified by ``fictra backup verify`` (restored into a scratch database: integrity, row
counts, audit chain, seals, signed checkpoints); ``VerifyResult.summary()`` is the evidence.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

__all__ = ["BackupManifest", "BackupTools", "BackupVerification"]


class BackupManifest(Protocol):
    """What the checks read of a backup's manifest (``fictra.backup.Manifest``)."""

    @property
    def sha256(self) -> str: ...

    @property
    def created_at(self) -> str: ...


class BackupVerification(Protocol):
    """What the restore drill reads of a verification (``fictra.backup.VerifyResult``)."""

    @property
    def ok(self) -> bool: ...

    def summary(self) -> str: ...


@dataclass(frozen=True)
class BackupTools:
    """fictra.backup's functions, passed in by the integrator (see the module's docstring)."""

    directory: Path
    list_backups: Callable[[Path], Sequence[Path]]  # backup files with a manifest, oldest first
    manifest_of: Callable[[Path], BackupManifest]  # a backup file -> its manifest
    sha256_of: Callable[[Path], str]
    verify: Callable[[Path], Awaitable[BackupVerification]]
