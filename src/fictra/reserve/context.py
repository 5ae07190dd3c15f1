"""What a running platform holds of the reserve domain (built by ``fictra.platform.reserve``)."""

from __future__ import annotations

from dataclasses import dataclass

from fictra.reserve.config import ReserveConfig
from fictra.reserve.monitor import ProofOfReserveMonitor
from fictra.reserve.publish import Publisher
from fictra.reserve.reads import ReserveReader

__all__ = ["ReserveContext"]


@dataclass
class ReserveContext:
    config: ReserveConfig
    reader: ReserveReader
    monitor: ProofOfReserveMonitor | None = None
    publisher: Publisher | None = None
