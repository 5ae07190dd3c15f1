"""ORM tables of the periodic transaction reports and of the filings' drafts.

``compliance_transfers``: one compact row per PT/FT transfer the screening monitor saw (written in the
follower's transaction, removed on a reorg); the transaction reports read it. ``compliance_filing_drafts``:
a filing generated from its template for one period (content, rendered body, content hash), reviewed,
approved (``compliance_filing_approvals``, :mod:`fictra.auth.approvals` bound to the content hash) and
filed with the submission reference.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime

__all__ = ["FilingApproval", "FilingDraft", "TransferRow"]


class TransferRow(Base):
    __tablename__ = "compliance_transfers"
    # no unique key on (tx, log): a random-keyed index costs the head ~30% of its throughput; a batch is
    # written once in the follower's transaction and a reorg deletes by block

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    block_number: Mapped[int] = mapped_column(Integer, index=True)
    log_index: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(String(66))
    token: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(42))
    recipient: Mapped[str] = mapped_column(String(42))
    value: Mapped[str] = mapped_column(String(80))  # base units, decimal (uint256 does not fit a BIGINT)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # block time


class FilingDraft(Base):
    __tablename__ = "compliance_filing_drafts"
    __table_args__ = (Index("ix_compliance_filing_drafts_name", "name", "period_label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    period_label: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))  # generated | reviewed | filed | superseded
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    body: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    generated_by: Mapped[str] = mapped_column(String(200))
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reference: Mapped[str | None] = mapped_column(Text, nullable=True)
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FilingApproval(Base):
    __tablename__ = "compliance_filing_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draft_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey(
            "compliance_filing_drafts.id", ondelete="CASCADE", name="fk_compliance_filing_approvals_draft"
        ),
        index=True,
    )
    approver: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    params_hash: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(200))
