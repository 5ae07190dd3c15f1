"""Pydantic views of the audit log for the API and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from fictra.audit.checkpoints import ConsistencyProof, InclusionProof
from fictra.audit.models import AuditCheckpoint, AuditEntry
from fictra.audit.verify import VerifyReport


class EntryView(BaseModel):
    index: int
    at: datetime
    actor: str
    action: str
    target: str
    before: Any = None
    after: Any = None
    reason: str | None = None
    prev_hash: str
    entry_hash: str

    @classmethod
    def of(cls, row: AuditEntry) -> EntryView:
        return cls(
            index=row.idx,
            at=row.at,
            actor=row.actor,
            action=row.action,
            target=row.target,
            before=row.before,
            after=row.after,
            reason=row.reason,
            prev_hash=row.prev_hash,
            entry_hash=row.entry_hash,
        )


class EntryPage(BaseModel):
    entries: list[EntryView]
    total: int = Field(description="Entries in the log (all, not only those matching).")
    next_before: int | None = Field(
        default=None, description="Pass as `before` to get the next (older) page; null on the last page."
    )


class CheckpointView(BaseModel):
    id: int
    tree_size: int
    root_hash: str
    created_at: datetime
    key_id: str
    signature: str
    anchor_chain_id: int | None = None
    anchor_address: str | None = None
    anchor_tx: str | None = None
    anchored_at: datetime | None = None

    @classmethod
    def of(cls, row: AuditCheckpoint) -> CheckpointView:
        return cls(
            id=row.id,
            tree_size=row.tree_size,
            root_hash=row.root_hash,
            created_at=row.created_at,
            key_id=row.key_id,
            signature=row.signature,
            anchor_chain_id=row.anchor_chain_id,
            anchor_address=row.anchor_address,
            anchor_tx=row.anchor_tx,
            anchored_at=row.anchored_at,
        )


class ProblemView(BaseModel):
    kind: str
    message: str
    index: int | None = None


class VerifyView(BaseModel):
    ok: bool
    status: str = Field(description="intact or tampered")
    first_bad_index: int | None
    summary: str
    entries: int
    checkpoints: int
    anchors_checked: int
    problems: list[ProblemView]

    @classmethod
    def of(cls, report: VerifyReport) -> VerifyView:
        return cls(
            ok=report.ok,
            status="intact" if report.ok else "tampered",
            first_bad_index=report.first_bad_index,
            summary=report.summary(),
            entries=report.entries,
            checkpoints=report.checkpoints,
            anchors_checked=report.anchors_checked,
            problems=[ProblemView(kind=p.kind, message=p.message, index=p.index) for p in report.problems],
        )


class InclusionProofView(BaseModel):
    index: int
    tree_size: int
    entry_hash: str
    leaf_hash: str
    path: list[str]
    root_hash: str
    checkpoint_id: int
    valid: bool

    @classmethod
    def of(cls, proof: InclusionProof) -> InclusionProofView:
        return cls(**proof.__dict__)


class ConsistencyProofView(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]
    valid: bool

    @classmethod
    def of(cls, proof: ConsistencyProof) -> ConsistencyProofView:
        return cls(**proof.__dict__)
