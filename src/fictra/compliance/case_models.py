"""ORM tables of compliance cases and suspicious activity reports.

``compliance_cases``: screening hits and AML alerts of one subject, worked open → investigating →
escalated → closed (no action / reported). ``compliance_sars``: a report drafted from a case (its content as
JSON and the content's hash), approved under a two-person rule, then filed with the submission reference.
``compliance_sar_approvals``: approvals bound to the report's content hash (``fictra.auth.approvals``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime

__all__ = ["Case", "Sar", "SarApproval"]


class Case(Base):
    __tablename__ = "compliance_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subject: Mapped[str] = mapped_column(String(500), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    resolution: Mapped[str | None] = mapped_column(String(16), nullable=True)
    assignee: Mapped[str] = mapped_column(String(200))
    hit_ids: Mapped[list[int]] = mapped_column(JSON)
    alert_ids: Mapped[list[int]] = mapped_column(JSON)
    notes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    opened_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Sar(Base):
    __tablename__ = "compliance_sars"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("compliance_cases.id", ondelete="CASCADE", name="fk_compliance_sars_case"),
        index=True,
    )
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    content_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # draft | filed
    drafted_by: Mapped[str] = mapped_column(String(200))
    drafted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    filed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    filing_reference: Mapped[str | None] = mapped_column(Text, nullable=True)


class SarApproval(Base):
    __tablename__ = "compliance_sar_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sar_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("compliance_sars.id", ondelete="CASCADE", name="fk_compliance_sar_approvals_sar"),
        index=True,
    )
    approver: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    params_hash: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(200))
