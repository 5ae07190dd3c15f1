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

    def live_line(self) -> str:
        """One line for the live terminal view."""
        proof = self.monitor.latest if self.monitor is not None else None
        if proof is None:
            return "reserve: no proof yet"
        ratio = "n/a (no supply)" if proof.ratio is None else f"{proof.ratio * 100:.1f}%"
        stale = f", stale: {', '.join(a.reading.symbol for a in proof.stale)}" if proof.stale else ""
        publishing = " · PoR feed published by the platform" if self.publisher is not None else ""
        return (
            f"reserve: collateral {ratio} at block {proof.block} "
            f"({proof.value / 1e18:,.0f} USD vs {proof.supply / 1e18:,.0f} PT{stale}){publishing}"
        )
