"""ORM tables of procedures.

``procedure_runs`` is one row per (procedure, due time): when it started, its outcome (``open`` while it
runs, then ``completed`` / ``failed`` / ``missed``) and its owner at the time. ``procedure_steps`` holds
each step's result (``pending`` / ``passed`` / ``failed`` / ``signed`` / ``reported`` / ``error``) with its
evidence document, the document's SHA-256 (also written to the audit log), who signed off, when and the
note.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime

__all__ = ["Outcome", "ProcedureRun", "ProcedureStep", "StepResult"]


class Outcome(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    FAILED = "failed"
    MISSED = "missed"


class StepResult(StrEnum):
    PENDING = "pending"
    PASSED = "passed"
    FAILED = "failed"
    SIGNED = "signed"
    REPORTED = "reported"


DONE = frozenset({StepResult.PASSED, StepResult.SIGNED, StepResult.REPORTED})


class ProcedureRun(Base):
    __tablename__ = "procedure_runs"
    __table_args__ = (
        UniqueConstraint("procedure", "due_at", name="uq_procedure_runs_procedure_due_at"),
        Index("ix_procedure_runs_outcome_due_at", "outcome", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    procedure: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(200))


class ProcedureStep(Base):
    __tablename__ = "procedure_steps"
    __table_args__ = (UniqueConstraint("run_id", "position", name="uq_procedure_steps_run_id_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Integer, ForeignKey("procedure_runs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # automated | manual | report
    title: Mapped[str] = mapped_column(String(300))
    result: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    evidence_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    signed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
