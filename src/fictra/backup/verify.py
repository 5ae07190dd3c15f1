"""Verify a backup: its sha256, then a restore into a scratch database (a temporary SQLite file, or a
scratch PostgreSQL database on the same server) whose integrity, row counts, audit head, latest
checkpoint, hash chain, seals and checkpoint signatures are checked (:func:`fictra.audit.verify`).

The first failed check is the result's ``problem``: one line naming the backup and the reason.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.checkpoints import count_checkpoints
from fictra.audit.seal import SealKey
from fictra.audit.signing import KEY_FILE, AuditVerifier, load_signer, load_verifier
from fictra.audit.verify import verify_log
from fictra.backup import postgres, sqlite
from fictra.backup.manifest import Manifest, Snapshot, read_manifest, resolve, sha256_of
from fictra.backup.snapshot import take
from fictra.db.engine import make_engine, session_factory
from fictra.errors import ConfigError, FictraError


class BackupRefused(FictraError):
    """A backup that fails verification (the CLI prints the one-line reason and exits 2)."""

    exit_code = 2


@dataclass
class VerifyResult:
    backup: Path
    manifest: Manifest
    problem: str | None = None
    audit_summary: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.problem is not None:
            return f"backup {self.backup.name} REFUSED: {self.problem}"
        snap = self.manifest.snapshot
        rows = sum(snap.row_counts.values())
        return (
            f"backup {self.backup.name} verified: sha256 ok, restored into a scratch "
            f"{self.manifest.database} database, {len(snap.row_counts)} tables / {rows} rows as in the "
            f"manifest; {self.audit_summary}"
        )


@dataclass(frozen=True)
class AuditKeys:
    verifier: AuditVerifier | None
    seal: SealKey | None
    note: str | None = None


def audit_keys(data_dir: Path) -> AuditKeys:
    """The platform's audit keys from ``<data_dir>/keys`` (none when no key was ever made)."""
    if not (data_dir / "keys" / KEY_FILE).is_file():
        return AuditKeys(None, None, "no audit key in the data directory: seals and signatures not checked")
    verifier = load_verifier(data_dir)
    try:
        seal = SealKey.of(load_signer(data_dir, create=False))
    except ConfigError as exc:
        return AuditKeys(verifier, None, f"seals not checked: {exc.user_message}")
    return AuditKeys(verifier, seal)


def compare(expected: Snapshot, found: Snapshot) -> str | None:
    """The first difference between the manifest's snapshot and the restored copy's."""
    for table in sorted(set(expected.row_counts) | set(found.row_counts)):
        want, got = expected.row_counts.get(table), found.row_counts.get(table)
        if want != got:
            return f"table {table} has {got} rows in the restored copy, the manifest says {want}"
    if expected.schema_revisions != found.schema_revisions:
        return (
            f"schema revision {found.schema_revisions} in the restored copy, the manifest says "
            f"{expected.schema_revisions}"
        )
    if expected.audit_head != found.audit_head:
        return (
            f"audit head (size {found.audit_head.size}, hash {str(found.audit_head.latest_hash)[:16]}) "
            "differs "
            f"from the manifest's (size {expected.audit_head.size}, hash "
            f"{str(expected.audit_head.latest_hash)[:16]})"
        )
    if expected.checkpoint != found.checkpoint:
        return "the latest signed checkpoint differs from the manifest's"
    return None


async def _check_restored(url: str, result: VerifyResult, keys: AuditKeys) -> None:
    engine = make_engine(url)
    try:
        async with session_factory(engine)() as session:
            found = await take(session)
            problem = compare(result.manifest.snapshot, found)
            if problem is not None:
                result.problem = problem
                return
            await _check_audit(session, result, keys)
    finally:
        await engine.dispose()


async def _check_audit(session: AsyncSession, result: VerifyResult, keys: AuditKeys) -> None:
    if keys.verifier is None and await count_checkpoints(session):
        result.problem = (
            "the copy holds signed checkpoints but no audit key is in the data directory to check them"
        )
        return
    report = await verify_log(session, verifier=keys.verifier, seal=keys.seal)
    if not report.ok:
        result.problem = report.summary()
        return
    result.audit_summary = report.summary()
    if keys.note:
        result.notes.append(keys.note)


async def _verify_sqlite(backup: Path, result: VerifyResult, keys: AuditKeys) -> None:
    with tempfile.TemporaryDirectory(prefix="fictra-verify-") as scratch_dir:
        scratch = Path(scratch_dir) / "scratch.db"
        shutil.copyfile(backup, scratch)
        problem = sqlite.integrity(scratch)
        if problem is not None:
            result.problem = f"SQLite integrity check failed: {problem}"
            return
        await _check_restored(f"sqlite:///{scratch}", result, keys)


async def _verify_postgres(backup: Path, result: VerifyResult, keys: AuditKeys, server_url: str) -> None:
    if postgres.schema_of(server_url) != result.manifest.pg_schema and result.manifest.pg_schema:
        # the copy is checked in the schema it was dumped from, inside the scratch database
        server_url = _with_schema(server_url, result.manifest.pg_schema)
    with postgres.scratch_database(server_url) as name:
        try:
            await asyncio.to_thread(postgres.restore, url=server_url, source=backup, database=name)
        except FictraError as exc:
            result.problem = f"the dump does not restore: {exc.user_message}"
            return
        await _check_restored(postgres.sqlalchemy_url(server_url, database=name), result, keys)


def _with_schema(url: str, schema: str) -> str:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    query = {k: v for k, v in parsed.query.items() if k != "options"}
    query["options"] = f"-csearch_path={schema}"
    return str(parsed.set(query=query).render_as_string(hide_password=False))


async def verify_backup(*, backup: Path, data_dir: Path, database_url: str | None = None) -> VerifyResult:
    """Check the backup named by ``backup`` (the file or its manifest). ``database_url`` names the
    PostgreSQL server whose scratch database a dump is restored into (the platform's URL)."""
    file, manifest_file = resolve(backup)
    manifest = read_manifest(manifest_file)
    result = VerifyResult(backup=file, manifest=manifest)
    digest = sha256_of(file)
    if digest != manifest.sha256:
        result.problem = (
            f"sha256 mismatch: the file hashes to {digest[:16]}…, the manifest says {manifest.sha256[:16]}… "
            "(the file was changed after it was made)"
        )
        return result
    keys = audit_keys(data_dir)
    if manifest.database == "sqlite":
        await _verify_sqlite(file, result, keys)
    elif manifest.database == "postgresql":
        if database_url is None or not database_url.startswith("postgresql"):
            raise ConfigError(
                "Verifying a PostgreSQL dump needs a PostgreSQL server for the scratch database: set "
                "FICTRA_DATABASE_URL (or --server) to a postgresql:// URL."
            )
        await _verify_postgres(file, result, keys, database_url)
    else:
        result.problem = f"the manifest names an unknown database kind '{manifest.database}'"
    return result
