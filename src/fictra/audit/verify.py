"""Verify the whole audit log: the hash chain, the head row, every checkpoint's root and signature, and
(when an anchor is given) the roots anchored on chain.

The report names the FIRST bad entry index when entries were tampered with. With the seal key
(:mod:`fictra.audit.seal`) every entry's seal and the head's seal are checked too: a row rewritten with a
recomputed chain is named by its seal (under a checkpoint or in the tail), a truncated tail by the head's
seal (the first missing index). Without the key, a chain rewritten and re-hashed under a checkpoint is
named at the smallest index the checkpoints can still vouch for, and the tail is unprotected: the report
says the seals were not checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit import merkle
from fictra.audit.chain import PAGE, walk
from fictra.audit.checkpoints import checkpoint_statement, leaves, list_checkpoints
from fictra.audit.models import GENESIS_HASH, AuditCheckpoint, AuditEntry
from fictra.audit.seal import SealKey, key_for
from fictra.audit.service import head, head_mac
from fictra.audit.signing import AuditVerifier


class AnchorReader(Protocol):
    """Reads anchored roots (see :class:`fictra.audit.anchor.AnchorClient`)."""

    @property
    def where(self) -> str: ...

    @property
    def address(self) -> str: ...

    async def root_of(self, tree_size: int) -> bytes | None: ...

    async def latest(self) -> tuple[int, bytes | None]: ...


@dataclass(frozen=True)
class Problem:
    kind: str  # modified | deleted | inserted | reordered | missing | unexpected | root | signature | anchor
    message: str
    index: int | None = None  # the first entry index this problem implicates, when it implicates one


@dataclass
class VerifyReport:
    entries: int = 0
    head_size: int = 0
    checkpoints: int = 0
    anchors_checked: int = 0
    seals_checked: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_index(self) -> int | None:
        indices = [p.index for p in self.problems if p.index is not None]
        return min(indices) if indices else None

    def summary(self) -> str:
        """One line: what was checked, or the first finding."""
        if self.ok:
            anchored = f", {self.anchors_checked} anchored on chain" if self.anchors_checked else ""
            unsealed = "" if self.seals_checked or not self.entries else " (seals not checked: no audit key)"
            return (
                f"audit log intact: {_count(self.entries, 'entry', 'entries')}, "
                f"{_count(self.checkpoints, 'checkpoint', 'checkpoints')} verified{anchored}{unsealed}"
            )
        first = self.first_bad_index
        lead = next((p for p in self.problems if p.index == first), self.problems[0])
        where = f"first bad index {first}: " if first is not None else ""
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"audit log TAMPERED — {where}{lead.message}{more}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


async def verify_log(
    session: AsyncSession,
    *,
    verifier: AuditVerifier | None,
    anchor: AnchorReader | None = None,
    seal: SealKey | None = None,
) -> VerifyReport:
    """Check everything; ``verifier`` None skips signatures (there is no key yet: no checkpoint either);
    ``seal`` (default: the key registered for the session's database) checks the seals."""
    seal = seal if seal is not None else key_for(session, create=False)
    report = VerifyReport()
    report.head_size, head_hash = await head(session)
    _, fault = await walk(session)
    if fault is not None:
        report.problems.append(Problem(fault.kind, fault.message, fault.index))
    stored = int((await session.execute(select(func.count()).select_from(AuditEntry))).scalar_one())
    report.entries = stored
    outside = (await session.execute(select(func.count()).where(AuditEntry.idx < 0))).scalar_one()
    if outside:
        report.problems.append(
            Problem("unexpected", f"{outside} stored entries have a negative index (outside the chain).")
        )
    last = (await session.execute(select(func.max(AuditEntry.idx)))).scalar_one()
    top = -1 if last is None else int(last)
    if top + 1 < report.head_size:
        report.problems.append(
            Problem(
                "deleted",
                f"Entries {top + 1}..{report.head_size - 1} are missing (the log's head records "
                f"{report.head_size} entries).",
                top + 1,
            )
        )
    elif top + 1 > report.head_size:
        report.problems.append(
            Problem(
                "unexpected",
                f"Entries from {report.head_size} on were added outside the audit service "
                f"(the head records {report.head_size} entries, entry {top} exists).",
                report.head_size,
            )
        )
    elif fault is None and stored == report.head_size and top >= 0:
        last_hash = (
            await session.execute(select(AuditEntry.entry_hash).where(AuditEntry.idx == top))
        ).scalar_one()
        if last_hash != head_hash:
            report.problems.append(
                Problem(
                    "modified", f"Entry {top} was modified and re-hashed: the head records another hash.", top
                )
            )
    first_fault = fault.index if fault else None
    if seal is not None:
        report.seals_checked = True
        sealed_fault = await _check_seals(session, report, seal, stop=first_fault)
        if sealed_fault is not None:
            first_fault = sealed_fault if first_fault is None else min(first_fault, sealed_fault)
        await _check_head_seal(session, report, seal, top=top, head_hash=head_hash, fault=first_fault)
    checkpoints = list(reversed(await list_checkpoints(session)))
    report.checkpoints = len(checkpoints)
    tree = await leaves(session)
    _check_checkpoints(report, checkpoints, tree, verifier, first_fault)
    if anchor is not None:
        await _check_anchor(report, checkpoints, tree, anchor)
    return report


async def _check_seals(
    session: AsyncSession, report: VerifyReport, seal: SealKey, *, stop: int | None
) -> int | None:
    """The first entry in ``[0, stop)`` whose seal is missing or wrong (entries from a chain fault on are
    already implicated by it), reported; None when every seal holds."""
    position = 0
    while stop is None or position < stop:
        query = (
            select(AuditEntry.idx, AuditEntry.entry_hash, AuditEntry.mac)
            .where(AuditEntry.idx >= position)
            .order_by(AuditEntry.idx)
            .limit(PAGE)
        )
        if stop is not None:
            query = query.where(AuditEntry.idx < stop)
        rows = (await session.execute(query)).all()
        if not rows:
            return None
        for idx, entry_hash, mac in rows:
            if seal.entry_ok(index=idx, entry_hash=entry_hash, mac=mac):
                continue
            if mac is None:
                report.problems.append(
                    Problem(
                        "unsealed",
                        f"Entry {idx} carries no seal: it was written without the audit key, or its seal "
                        "was removed (`fictra audit seal` seals the entries of a log from before seals).",
                        idx,
                    )
                )
            else:
                report.problems.append(
                    Problem(
                        "modified",
                        f"Entry {idx} was rewritten: its seal does not match its contents (the chain "
                        "after it may have been recomputed).",
                        idx,
                    )
                )
            return int(idx)
        position = int(rows[-1][0]) + 1
    return None


async def _check_head_seal(
    session: AsyncSession, report: VerifyReport, seal: SealKey, *, top: int, head_hash: str, fault: int | None
) -> None:
    if seal.head_ok(size=report.head_size, head_hash=head_hash, mac=await head_mac(session)):
        return
    if report.head_size == 0 and head_hash == GENESIS_HASH and top < 0:
        return  # a log nothing was ever appended to (its head row is the migration's)
    explained = fault is not None or any(p.index is not None for p in report.problems)
    report.problems.append(
        Problem(
            "truncated",
            f"The head row (size {report.head_size}) does not carry a valid seal: the log's tail was "
            f"truncated or rewritten — entries from {top + 1} on are missing or were replaced.",
            None if explained else top + 1,
        )
    )


def _check_checkpoints(
    report: VerifyReport,
    checkpoints: Sequence[AuditCheckpoint],
    tree: list[bytes],
    verifier: AuditVerifier | None,
    chain_fault: int | None,
) -> None:
    vouched = 0  # entries [0, vouched) match a signed checkpoint
    for cp in checkpoints:
        label = f"Checkpoint #{cp.id} (tree size {cp.tree_size})"
        if verifier is not None:
            if cp.key_id != verifier.key_id:
                report.problems.append(
                    Problem(
                        "signature",
                        f"{label} names signing key {cp.key_id[:16]}…, not the platform key "
                        f"{verifier.key_id[:16]}….",
                    )
                )
            elif not verifier.verify(checkpoint_statement(cp), cp.signature):
                report.problems.append(Problem("signature", f"{label} has a signature that does not verify."))
        if cp.tree_size > len(tree):
            report.problems.append(
                Problem(
                    "deleted",
                    f"{label} covers {cp.tree_size} entries but only {len(tree)} are stored.",
                    len(tree),
                )
            )
            continue
        if merkle.root(tree[: cp.tree_size]).hex() != cp.root_hash:
            explained = chain_fault is not None and chain_fault < cp.tree_size
            index = chain_fault if explained else vouched
            report.problems.append(
                Problem(
                    "root",
                    f"{label} root does not match entries [0, {cp.tree_size}): entries from "
                    f"{vouched} on were rewritten.",
                    index,
                )
            )
            continue
        vouched = cp.tree_size


async def _check_anchor(
    report: VerifyReport, checkpoints: Sequence[AuditCheckpoint], tree: list[bytes], anchor: AnchorReader
) -> None:
    sizes = {cp.tree_size for cp in checkpoints}
    for cp in checkpoints:
        # anchored at an earlier anchor contract (a devnet since restarted): its absence here is no finding
        elsewhere = bool(cp.anchor_address) and str(cp.anchor_address).lower() != anchor.address.lower()
        on_chain = await anchor.root_of(cp.tree_size)
        label = f"Checkpoint #{cp.id} (tree size {cp.tree_size})"
        if on_chain is None:
            if cp.anchor_tx and not elsewhere:
                report.problems.append(
                    Problem(
                        "anchor",
                        f"{label} says it was anchored in tx {cp.anchor_tx}, but {anchor.where} "
                        f"holds no root for tree size {cp.tree_size}.",
                    )
                )
            continue
        report.anchors_checked += 1
        if on_chain.hex() != cp.root_hash:
            report.problems.append(
                Problem(
                    "anchor",
                    f"{label} root {cp.root_hash[:16]}… differs from the root anchored at "
                    f"{anchor.where}: {on_chain.hex()[:16]}….",
                )
            )
    # the latest anchored head must be a prefix of the log as stored now
    latest_size, latest_root = await anchor.latest()
    if not latest_size:
        return
    if latest_size not in sizes:
        report.problems.append(
            Problem(
                "anchor",
                f"{anchor.where} anchors tree size {latest_size}, but no checkpoint of that size "
                "is stored (a checkpoint was deleted).",
            )
        )
    if latest_size > len(tree):
        report.problems.append(
            Problem(
                "truncated",
                f"{anchor.where} anchors a log of {latest_size} entries, but only {len(tree)} are stored: "
                f"entries from {len(tree)} on were deleted.",
                len(tree),
            )
        )
    elif (
        latest_size not in sizes
        and latest_root is not None
        and merkle.root(tree[:latest_size]) != latest_root
    ):
        report.problems.append(
            Problem(
                "root",
                f"Entries [0, {latest_size}) do not match the head anchored at {anchor.where}.",
                report.first_bad_index,
            )
        )
