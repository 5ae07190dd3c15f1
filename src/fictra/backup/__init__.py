"""Backups and restore drills: ``create`` (SQLite online backup or ``pg_dump``) with a manifest,
``verify`` (restore into a scratch database and check integrity, row counts, the audit chain, seals and
signed checkpoints), ``restore`` (refused while a platform uses the target). See ``docs/backup.md``."""

from fictra.backup.create import create_backup
from fictra.backup.jobs import backup_job
from fictra.backup.manifest import Manifest, read_manifest
from fictra.backup.restore import in_use, restore_backup
from fictra.backup.verify import VerifyResult, verify_backup

__all__ = [
    "Manifest",
    "VerifyResult",
    "backup_job",
    "create_backup",
    "in_use",
    "read_manifest",
    "restore_backup",
    "verify_backup",
]
