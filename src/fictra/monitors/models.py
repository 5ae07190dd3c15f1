"""ORM table holding serialized anomaly baselines, so EWMA state survives restarts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
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
