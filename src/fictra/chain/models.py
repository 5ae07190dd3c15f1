"""Tables of the chain follower: checkpoint per network, recent block hashes, recorded reorgs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime


class ChainCheckpoint(Base):
    """The last block the follower processed (and handed to the consumer) on a network."""

    __tablename__ = "chain_checkpoint"

    network: Mapped[str] = mapped_column(String(64), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(66))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChainBlockHash(Base):
    """The hashes of the most recent processed blocks (reorg detection walks back through them)."""

    __tablename__ = "chain_block_hash"

    network: Mapped[str] = mapped_column(String(64), primary_key=True)
    number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hash: Mapped[str] = mapped_column(String(66))
    parent_hash: Mapped[str] = mapped_column(String(66))


class ChainReorg(Base):
    """One detected reorganisation: blocks after ``common_ancestor`` were replaced."""

    __tablename__ = "chain_reorg"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    network: Mapped[str] = mapped_column(String(64), index=True)
    depth: Mapped[int] = mapped_column(Integer)
    common_ancestor: Mapped[int] = mapped_column(BigInteger)
    old_hashes: Mapped[list[str]] = mapped_column(JSON)
    new_hashes: Mapped[list[str]] = mapped_column(JSON)
    detected_at_block: Mapped[int] = mapped_column(BigInteger)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
