"""ORM tables of change management.

``change_requests``: one row per change, its content (hashed into ``content_hash``: an edit changes it
and voids every approval), state, computed impact and risk, the approval rule copied when authorization
is requested, scheduling conflicts and who acknowledged them, verification results and the review.
``change_approvals``: (person, roles) approvals bound to a content hash, with their expiry.
``change_steps``: the implementation and rollback checklists (on-chain steps point at an emergency
action by id). ``change_events``: the change's timeline.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime

__all__ = ["ChangeApproval", "ChangeEvent", "ChangeFeedback", "ChangeRequest", "ChangeStep"]


class ChangeRequest(Base):
    __tablename__ = "change_requests"
    __table_args__ = (Index("ix_change_requests_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    components: Mapped[list[str]] = mapped_column(JSON)
    requester: Mapped[str] = mapped_column(String(200))
    implementer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    planned_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    planned_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    verification: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # CEL checks and manual sign-offs
    rollback_plan: Mapped[str | None] = mapped_column(Text, nullable=True)
    notify: Mapped[list[str]] = mapped_column(JSON)
    proposal_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    template: Mapped[str | None] = mapped_column(String(128), nullable=True)  # a standard change's
    state: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64))
    impact: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    risk: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    conflicts: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    conflicts_ack: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    verification_result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    review: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    window_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChangeApproval(Base):
    __tablename__ = "change_approvals"
    __table_args__ = (Index("ix_change_approvals_change_id", "change_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id", ondelete="CASCADE"))
    approver: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    params_hash: Mapped[str] = mapped_column(String(64))  # the change's content hash when approved
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(200))


class ChangeStep(Base):
    __tablename__ = "change_steps"
    __table_args__ = (Index("ix_change_steps_change_id", "change_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id", ondelete="CASCADE"))
    phase: Mapped[str] = mapped_column(String(16))  # implement | rollback
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    action_kind: Mapped[str | None] = mapped_column(String(64), nullable=True)
    action_params: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    action_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    done_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class ChangeEvent(Base):
    __tablename__ = "change_events"
    __table_args__ = (Index("ix_change_events_change_id", "change_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ChangeFeedback(Base):
    """A notified stakeholder's feedback on a change: a one-time link (only the token's SHA-256 is kept)
    to a short form (rating 1-5 and a comment), valid until ``expires_at``."""

    __tablename__ = "change_feedback"
    __table_args__ = (
        Index("ix_change_feedback_change_id", "change_id"),
        Index("ux_change_feedback_token_hash", "token_hash", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("change_requests.id", ondelete="CASCADE"))
    stakeholder: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
