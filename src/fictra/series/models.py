"""``series_samples``: one row per (series, block). ``t`` is the block's timestamp in Unix seconds (an
integer, so bucketing is plain integer arithmetic on SQLite and PostgreSQL alike)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base


class SeriesSample(Base):
    __tablename__ = "series_samples"
    __table_args__ = (
        Index("ix_series_samples_network_name_t", "network", "name", "t"),
        Index("ix_series_samples_network_block", "network", "block_number"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    network: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    block_number: Mapped[int] = mapped_column(BigInteger)
    t: Mapped[int] = mapped_column(BigInteger)
    value: Mapped[float] = mapped_column(Float)
