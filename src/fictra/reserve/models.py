"""ORM tables of the reserve domain.

``reserve_proofs``: the proof of reserve at the last block of each batch the follower processed (written
in the follower's transaction, so it is exactly-once with the checkpoint); the ratio chart and the
console read it. ``reserve_por_updates``: every proof-of-reserve feed update the platform signed, recorded
before broadcast (the transaction sender's store), with how it ended.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime

__all__ = ["PorUpdate", "ReserveProof"]


class ReserveProof(Base):
    __tablename__ = "reserve_proofs"
    __table_args__ = (Index("ix_reserve_proofs_network_block", "network", "block_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    network: Mapped[str] = mapped_column(String(64))
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_time: Mapped[int] = mapped_column(BigInteger)
    supply: Mapped[str] = mapped_column(String(80))  # PT wei, decimal string (exceeds 64 bits)
    value: Mapped[str] = mapped_column(String(80))  # counted reserve value, USD wei
    ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    stale: Mapped[int] = mapped_column(Integer)  # how many assets were valued at zero for a stale price
    assets: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PorUpdate(Base):
    __tablename__ = "reserve_por_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    network: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(String(80))  # USD wei published
    block_number: Mapped[int] = mapped_column(BigInteger)  # the proof's block
    signer: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    raw: Mapped[str] = mapped_column(String(4000))
    status: Mapped[str] = mapped_column(String(16))  # sent | confirmed | failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
