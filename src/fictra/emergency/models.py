"""ORM tables of emergency actions.

``emergency_actions`` one row per proposed action (its params, their hash, status, timing);
``action_approvals`` each approval, bound to the params hash it approved; ``action_dry_runs`` every
simulation (params hash + block); ``action_txs`` every signed transaction, written *before* it is
broadcast (hash + nonce + raw bytes, so a crash between signing and sending is recoverable);
``action_events`` the action's timeline; ``response_policies`` the enabled state of automatic-response
policies (changed only by an approved policy_enable/policy_disable action).

``incident_id`` has no foreign key: incidents are another domain's table that may not exist yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime


class EmergencyAction(Base):
    __tablename__ = "emergency_actions"
    __table_args__ = (
        Index("ix_emergency_actions_status", "status"),
        Index("ix_emergency_actions_incident_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    params_hash: Mapped[str] = mapped_column(String(64))
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)  # the approval rule in force when proposed
    status: Mapped[str] = mapped_column(String(16))
    proposed_by: Mapped[str] = mapped_column(String(200))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    incident_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    trigger_alert_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL"), nullable=True
    )
    trigger_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # the alert fired
    policy: Mapped[str | None] = mapped_column(String(200), nullable=True)
    executed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    scheduled_ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    timelock_op: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    alert_to_confirmed_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    verification: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ActionApproval(Base):
    __tablename__ = "action_approvals"
    __table_args__ = (Index("ix_action_approvals_action_id", "action_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("emergency_actions.id", ondelete="CASCADE"))
    approver: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON)
    params_hash: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    via: Mapped[str] = mapped_column(String(200))  # person | policy:<name>


class ActionDryRun(Base):
    __tablename__ = "action_dry_runs"
    __table_args__ = (Index("ix_action_dry_runs_action_id", "action_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("emergency_actions.id", ondelete="CASCADE"))
    params_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    block_number: Mapped[int] = mapped_column(BigInteger)
    ok: Mapped[bool] = mapped_column(Boolean)
    traced: Mapped[bool] = mapped_column(Boolean)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text)


class ActionTx(Base):
    __tablename__ = "action_txs"
    __table_args__ = (Index("ix_action_txs_action_id", "action_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("emergency_actions.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    to: Mapped[str] = mapped_column(String(42))
    signer: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    raw_tx: Mapped[str | None] = mapped_column(Text, nullable=True)  # signed bytes (public once sent)
    status: Mapped[str] = mapped_column(String(16))
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    gas_used: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    effective_gas_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    confirmations: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    included_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class ActionEvent(Base):
    __tablename__ = "action_events"
    __table_args__ = (Index("ix_action_events_action_id_id", "action_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("emergency_actions.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)


class ResponsePolicyState(Base):
    __tablename__ = "response_policies"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_by: Mapped[str] = mapped_column(String(200))
    action_id: Mapped[int | None] = mapped_column(
        ForeignKey("emergency_actions.id", ondelete="SET NULL"), nullable=True
    )
