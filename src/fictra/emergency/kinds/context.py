"""What a kind's steps may use: the database, the clock, the chain reader, the signers and transactions,
the platform's controls, the emergency config, and the recorder that writes the action's events. Built by
the runner; one per runner."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import Clock
from fictra.emergency.config import EmergencyConfig
from fictra.emergency.controls import PlatformControl
from fictra.emergency.reader import ChainReader
from fictra.emergency.recorder import Recorder
from fictra.emergency.signers import Signers
from fictra.emergency.txs import ActionTxs
from fictra.errors import ConflictError

__all__ = ["KindContext"]


@dataclass
class KindContext:
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    reader: ChainReader
    config: EmergencyConfig
    signers: Signers
    txs: ActionTxs
    recorder: Recorder
    controls: PlatformControl | None = None
    poll_interval: float = 0.25

    def require_controls(self) -> PlatformControl:
        """The platform's controls, or a 409 saying this process has none."""
        if self.controls is None:
            raise ConflictError(
                "No platform controls in this process: isolate/restore/restart need `fictra up`."
            )
        return self.controls
