"""ORM tables of the audit log.

``audit_entries`` is the hash chain (one row per state change, ``idx`` 0, 1, 2...), ``audit_head`` is
a single row (id 1) holding the chain's size and last hash: appends lock it, so concurrent writers
never fork the chain, and a deleted tail is noticed. Entries and the head carry a keyed seal
(``mac``, see :mod:`fictra.audit.seal`) written in the same transaction. ``audit_checkpoints`` holds
the signed Merkle tree heads and, once anchored, the transaction that put the root on chain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime

GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    """One appended record. ``entry_hash`` = SHA-256 of the canonical encoding of every other field
    (see :func:`fictra.audit.canonical.entry_hash`); ``prev_hash`` is the previous entry's hash."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_action_idx", "action", "idx"),
        Index("ix_audit_entries_actor_idx", "actor", "idx"),
    )

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(300))
    before: Mapped[Any] = mapped_column(JSON, nullable=True)
    after: Mapped[Any] = mapped_column(JSON, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the seal (fictra.audit.seal)


class AuditHead(Base):
    """The single row (id 1) every append locks: the chain's size and its last entry's hash."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    head_hash: Mapped[str] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the head's seal


class AuditCheckpoint(Base):
    """A signed tree head: the RFC 6962 root over entries [0, tree_size)."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))
    anchor_chain_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    anchor_address: Mapped[str | None] = mapped_column(String(42), nullable=True)
    anchor_tx: Mapped[str | None] = mapped_column(String(66), nullable=True)
    anchored_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
