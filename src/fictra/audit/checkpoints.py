"""Signed checkpoints (tree heads) over the audit log, inclusion and consistency proofs, and the
periodic checkpoint task.

A checkpoint signs ``{"log": "fictra-audit", "root_hash", "timestamp", "tree_size"}`` (canonical JSON,
see :func:`statement`) with the platform's Ed25519 key. Before signing, the entries added since the
previous checkpoint are walked and the previous root is recomputed, so a tampered log is never signed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit import merkle
from fictra.audit.canonical import dumps, format_time
from fictra.audit.chain import walk
from fictra.audit.models import AuditCheckpoint, AuditEntry
from fictra.audit.service import head
from fictra.audit.signing import AuditSigner
from fictra.clock import Clock
from fictra.errors import ConflictError, NotFoundError, UsageError

log = logging.getLogger(__name__)

LOG_NAME = "fictra-audit"
DEFAULT_EVERY_S = 300.0


def statement(*, tree_size: int, root_hash: str, created_at: datetime) -> bytes:
    """The bytes a checkpoint's signature covers."""
    body = {
        "log": LOG_NAME,
        "tree_size": tree_size,
        "root_hash": root_hash,
        "timestamp": format_time(created_at),
    }
    return dumps(body).encode("utf-8")


def checkpoint_statement(checkpoint: AuditCheckpoint) -> bytes:
    return statement(
        tree_size=checkpoint.tree_size, root_hash=checkpoint.root_hash, created_at=checkpoint.created_at
    )


async def leaves(session: AsyncSession, size: int | None = None) -> list[bytes]:
    """Leaf hashes of the stored entries in index order (the first ``size`` when given)."""
    query = select(AuditEntry.entry_hash).order_by(AuditEntry.idx)
    if size is not None:
        query = query.where(AuditEntry.idx < size)
    hashes = (await session.execute(query)).scalars().all()
    return [merkle.leaf_hash(bytes.fromhex(h)) for h in hashes]


async def list_checkpoints(session: AsyncSession, *, limit: int | None = None) -> Sequence[AuditCheckpoint]:
    """Checkpoints, newest (largest) first."""
    query = select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc())
    if limit is not None:
        query = query.limit(limit)
    return (await session.execute(query)).scalars().all()


async def latest_checkpoint(session: AsyncSession) -> AuditCheckpoint | None:
    found = await list_checkpoints(session, limit=1)
    return found[0] if found else None


async def checkpoint_of_size(session: AsyncSession, tree_size: int) -> AuditCheckpoint:
    found = (
        await session.execute(select(AuditCheckpoint).where(AuditCheckpoint.tree_size == tree_size))
    ).scalar_one_or_none()
    if found is None:
        sizes = (
            await session.execute(select(AuditCheckpoint.tree_size).order_by(AuditCheckpoint.tree_size))
        ).scalars()
        known = ", ".join(str(s) for s in sizes) or "none yet"
        raise NotFoundError(f"No audit checkpoint of tree size {tree_size}. Checkpoint sizes: {known}.")
    return found


async def create_checkpoint(
    session: AsyncSession, *, signer: AuditSigner, clock: Clock
) -> AuditCheckpoint | None:
    """Sign a checkpoint over every entry now in the log (in the caller's transaction). Returns the new
    checkpoint, the existing one when no entry was added since, or None while the log is empty. Raises
    ConflictError (and signs nothing) when the log does not verify since the previous checkpoint."""
    size, _ = await head(session)
    if size == 0:
        return None
    previous = await latest_checkpoint(session)
    if previous is not None and previous.tree_size == size:
        return previous
    if previous is not None and previous.tree_size > size:
        raise ConflictError(
            f"The audit log has {size} entries but checkpoint #{previous.id} covers {previous.tree_size}: "
            "entries were deleted. Run `fictra audit verify`; no checkpoint was made."
        )
    tree = await leaves(session, size)
    start = 0
    if previous is not None:
        if merkle.root(tree[: previous.tree_size]).hex() != previous.root_hash:
            raise ConflictError(
                f"Entries [0, {previous.tree_size}) no longer match checkpoint #{previous.id}. Run "
                "`fictra audit verify`; no checkpoint was made."
            )
        start = previous.tree_size
    _, fault = await walk(session, start=start, stop=size)
    if fault is None and len(tree) != size:
        raise ConflictError(f"The audit log should hold {size} entries but {len(tree)} are stored.")
    if fault is not None:
        raise ConflictError(
            f"The audit log fails verification at index {fault.index}: {fault.message} "
            "Run `fictra audit verify`; no checkpoint was made."
        )
    created_at = clock.now()
    root_hash = merkle.root(tree).hex()
    checkpoint = AuditCheckpoint(
        tree_size=size,
        root_hash=root_hash,
        created_at=created_at,
        key_id=signer.key_id,
        signature=signer.sign(statement(tree_size=size, root_hash=root_hash, created_at=created_at)),
    )
    try:
        async with session.begin_nested():  # a savepoint: losing a race does not end the caller's transaction
            session.add(checkpoint)
    except IntegrityError:  # another writer signed this very size a moment ago: theirs stands
        return await checkpoint_of_size(session, size)
    return checkpoint


async def _covered(session: AsyncSession, checkpoint: AuditCheckpoint) -> list[bytes]:
    tree = await leaves(session, checkpoint.tree_size)
    if len(tree) != checkpoint.tree_size:
        raise ConflictError(
            f"Checkpoint #{checkpoint.id} covers {checkpoint.tree_size} entries but only {len(tree)} are "
            "stored. Run `fictra audit verify`."
        )
    return tree


@dataclass(frozen=True)
class InclusionProof:
    index: int
    tree_size: int
    entry_hash: str
    leaf_hash: str
    path: list[str]
    root_hash: str
    checkpoint_id: int
    valid: bool


async def prove_inclusion(
    session: AsyncSession, *, index: int, tree_size: int | None = None
) -> InclusionProof:
    """The audit path of entry ``index`` up to the checkpoint of ``tree_size`` (default: the latest
    checkpoint), checked against that checkpoint's signed root (``valid``)."""
    if tree_size is None:
        checkpoint = await latest_checkpoint(session)
        if checkpoint is None:
            raise ConflictError("No audit checkpoint yet. Make one with `fictra audit checkpoint`.")
    else:
        checkpoint = await checkpoint_of_size(session, tree_size)
    if index < 0:
        raise UsageError(f"Entry index {index} is negative; entries are numbered from 0.")
    if index >= checkpoint.tree_size:
        raise ConflictError(
            f"Entry {index} is not covered by checkpoint #{checkpoint.id} (entries 0.."
            f"{checkpoint.tree_size - 1}). Make a newer one with `fictra audit checkpoint`."
        )
    tree = await _covered(session, checkpoint)
    entry = (await session.execute(select(AuditEntry.entry_hash).where(AuditEntry.idx == index))).scalar_one()
    path = merkle.inclusion_path(tree, index)
    root = bytes.fromhex(checkpoint.root_hash)
    return InclusionProof(
        index=index,
        tree_size=checkpoint.tree_size,
        entry_hash=entry,
        leaf_hash=tree[index].hex(),
        path=[p.hex() for p in path],
        root_hash=checkpoint.root_hash,
        checkpoint_id=checkpoint.id,
        valid=merkle.verify_inclusion(tree[index], index, checkpoint.tree_size, path, root),
    )


@dataclass(frozen=True)
class ConsistencyProof:
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]
    valid: bool


async def prove_consistency(session: AsyncSession, *, first: int, second: int) -> ConsistencyProof:
    """The proof that checkpoint ``first`` (a tree size) is a prefix of checkpoint ``second``, checked
    against both signed roots (``valid``)."""
    if first > second:
        raise ConflictError(f"Consistency goes from the older tree to the newer: {first} > {second}.")
    old = await checkpoint_of_size(session, first)
    new = await checkpoint_of_size(session, second)
    tree = await _covered(session, new)
    proof = merkle.consistency_proof(tree, first)
    return ConsistencyProof(
        first=first,
        second=second,
        first_root=old.root_hash,
        second_root=new.root_hash,
        proof=[p.hex() for p in proof],
        valid=merkle.verify_consistency(
            first, second, bytes.fromhex(old.root_hash), bytes.fromhex(new.root_hash), proof
        ),
    )


async def count_checkpoints(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(AuditCheckpoint))).scalar_one())
