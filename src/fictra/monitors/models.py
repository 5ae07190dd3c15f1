"""ORM tables of monitor state that survives restarts: anomaly baselines and block monitors' snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from fictra.db.base import Base, UTCDateTime


class BaselineState(Base):
    """One baseline: ``monitor`` + ``series`` -> the JSON state of a
    :class:`fictra.monitors.baseline.Baseline`."""

    __tablename__ = "anomaly_baselines"

    monitor: Mapped[str] = mapped_column(String(200), primary_key=True)
    series: Mapped[str] = mapped_column(String(300), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MonitorState(Base):
    """One block monitor's in-memory state (rolling window, open conditions, previous-block values) as
    a JSON snapshot, written in the follower's transaction so it always matches the checkpoint.
    ``block_number`` is the last block the snapshot includes."""

    __tablename__ = "monitor_state"

    network: Mapped[str] = mapped_column(String(64), primary_key=True)
    monitor: Mapped[str] = mapped_column(String(200), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MonitorWindowEntry(Base):
    """One block's summary in a monitor's rolling window (the transactions monitor): inserted with the
    batch that adds the block, deleted with the batch that evicts it, so the window survives a crash at
    the cost of the batch's own blocks."""

    __tablename__ = "monitor_window"

    network: Mapped[str] = mapped_column(String(64), primary_key=True)
    monitor: Mapped[str] = mapped_column(String(200), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    summary: Mapped[list[Any]] = mapped_column(JSON)
