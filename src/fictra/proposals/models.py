"""ORM tables of governance proposals.

``gov_proposals``: one row per Governor proposal seen on the chain (the on-chain id as a decimal string:
it is a uint256 hash), its calls (raw and decoded), risk, lifecycle status derived from its events, vote
totals, the fork simulation, the reviewers' sign-offs and the post-execution verification. ``alerted``
says whether the "no change request references it" P1 is raised (set by the block monitor in the
follower's transaction). ``gov_proposal_events``: every decoded Governor event of a proposal, with its
block (a reorg deletes the removed blocks' events and the status is re-derived).
``gov_proposal_links``: a change request named as the proposal's change (besides the change's own
``proposal_id`` field).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime

__all__ = ["GovProposal", "GovProposalEvent", "GovProposalLink"]


class GovProposal(Base):
    __tablename__ = "gov_proposals"
    __table_args__ = (
        UniqueConstraint("network", "proposal_id", name="uq_gov_proposals_network_pid"),
        Index("ix_gov_proposals_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    network: Mapped[str] = mapped_column(String(64))
    proposal_id: Mapped[str] = mapped_column(String(80))  # uint256, decimal
    governor: Mapped[str] = mapped_column(String(42))
    proposer: Mapped[str] = mapped_column(String(42))
    description: Mapped[str] = mapped_column(Text)
    calls: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # decoded (calls.Call.as_dict)
    risk: Mapped[str] = mapped_column(String(8))
    risk_reasons: Mapped[list[str]] = mapped_column(JSON)
    vote_start: Mapped[int] = mapped_column(BigInteger)
    vote_end: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # created | queued | executed | canceled
    votes: Mapped[dict[str, str]] = mapped_column(JSON)  # for/against/abstain weights (decimal strings)
    created_block: Mapped[int] = mapped_column(BigInteger)
    created_tx: Mapped[str] = mapped_column(String(66))
    eta: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    executed_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    simulation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    signoffs: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    verification: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GovProposalEvent(Base):
    __tablename__ = "gov_proposal_events"
    __table_args__ = (
        Index("ix_gov_proposal_events_proposal", "proposal"),
        Index("ix_gov_proposal_events_block", "network", "block_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal: Mapped[int] = mapped_column(ForeignKey("gov_proposals.id", ondelete="CASCADE"))
    network: Mapped[str] = mapped_column(String(64))
    block_number: Mapped[int] = mapped_column(BigInteger)
    log_index: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[str] = mapped_column(String(66))
    kind: Mapped[str] = mapped_column(String(24))  # created | vote | queued | executed | canceled
    args: Mapped[dict[str, Any]] = mapped_column(JSON)


class GovProposalLink(Base):
    __tablename__ = "gov_proposal_links"
    __table_args__ = (UniqueConstraint("proposal", "change_id", name="uq_gov_proposal_links"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    proposal: Mapped[int] = mapped_column(ForeignKey("gov_proposals.id", ondelete="CASCADE"))
    change_id: Mapped[int] = mapped_column(Integer)
    linked_by: Mapped[str] = mapped_column(String(200))
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)
