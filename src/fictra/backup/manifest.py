"""The manifest written beside every backup file: what the backup holds and how to check it."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from fictra.errors import UsageError

SUFFIX = ".manifest.json"
FORMAT = 1


@dataclass(frozen=True)
class AuditHead:
    size: int  # entries in the log; the latest entry's index is size - 1
    latest_index: int | None
    latest_hash: str | None


@dataclass(frozen=True)
class CheckpointRef:
    id: int
    tree_size: int
    root_hash: str
    key_id: str
    signature: str
    created_at: str


@dataclass(frozen=True)
class Snapshot:
    """What a database holds, as far as a backup is concerned."""

    row_counts: dict[str, int]
    audit_head: AuditHead
    checkpoint: CheckpointRef | None
    schema_revisions: list[str]


@dataclass(frozen=True)
class Manifest:
    file: str  # the backup file's name (same directory as the manifest)
    sha256: str
    size: int
    database: str  # sqlite | postgresql
    created_at: str
    snapshot: Snapshot
    pg_schema: str | None = None  # the schema dumped (pg_dump -n), None for the whole database
    format: int = FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + SUFFIX)


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    path.chmod(0o600)


def write_manifest(backup: Path, manifest: Manifest) -> Path:
    path = manifest_path(backup)
    write_private(path, manifest.to_json())
    return path


def resolve(given: Path) -> tuple[Path, Path]:
    """(backup file, manifest) for a path naming either of them."""
    if given.name.endswith(SUFFIX):
        manifest = given
        backup = given.with_name(given.name[: -len(SUFFIX)])
    else:
        backup, manifest = given, manifest_path(given)
    if not manifest.is_file():
        raise UsageError(
            f"No backup manifest at '{manifest}': give a backup file made by `fictra backup create`."
        )
    if not backup.is_file():
        raise UsageError(f"The backup file '{backup}' named by the manifest is missing.")
    return backup, manifest


def read_manifest(path: Path) -> Manifest:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        snap = doc["snapshot"]
        cp = snap.get("checkpoint")
        return Manifest(
            file=str(doc["file"]),
            sha256=str(doc["sha256"]),
            size=int(doc["size"]),
            database=str(doc["database"]),
            created_at=str(doc["created_at"]),
            pg_schema=doc.get("pg_schema"),
            format=int(doc.get("format", FORMAT)),
            extra=dict(doc.get("extra") or {}),
            snapshot=Snapshot(
                row_counts={str(k): int(v) for k, v in snap["row_counts"].items()},
                audit_head=AuditHead(**snap["audit_head"]),
                checkpoint=None if cp is None else CheckpointRef(**cp),
                schema_revisions=[str(r) for r in snap["schema_revisions"]],
            ),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(
            f"The backup manifest '{path}' is unreadable or damaged ({type(exc).__name__})."
        ) from None
