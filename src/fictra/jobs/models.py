"""Job tables: one run record per (job, due time) and one lease per job."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Float, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime


class Outcome(StrEnum):
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"


class JobRun(Base):
    """One execution of a job for one due time. The unique (job, due_at) is the claim: the process
    whose insert wins runs that due time; every other insert does nothing."""

    __tablename__ = "job_runs"
    __table_args__ = (
        UniqueConstraint("job", "due_at", name="uq_job_runs_job_due_at"),
        Index("ix_job_runs_job_started_at", "job", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(100))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    woken: Mapped[bool] = mapped_column(default=False)
    holder: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)


class JobLease(Base):
    """Who may run the job now. ``holder`` is NULL when free; a lease whose ``expires_at`` has passed
    may be taken over. ``since`` is when the job was first registered against this database: due
    times before it are never run (a new daily job does not fire at once for this morning)."""

    __tablename__ = "job_leases"

    job: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(200), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    since: Mapped[datetime] = mapped_column(UTCDateTime)
