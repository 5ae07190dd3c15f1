"""What every monitor family implements.

A :class:`Monitor` sees each canonical :class:`~fictra.chain.types.BlockBatch` (and each
:class:`~fictra.chain.types.Reorg`) inside the follower's transaction, with the session, so a
monitor that keeps state (an anomaly baseline, a rolling window) saves it atomically with the
checkpoint. A :class:`PolledMonitor` is run on its own ``interval`` (node health, oracle rounds,
contract state). Both return a :class:`MonitorOutput`: findings for conditions that hold and clears
for conditions they raised earlier that no longer hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol, runtime_checkable

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Clear, Finding
from fictra.chain.types import BlockBatch, Reorg


@dataclass(slots=True)
class MonitorOutput:
    findings: list[Finding] = field(default_factory=list)
    clears: list[Clear] = field(default_factory=list)

    def extend(self, other: MonitorOutput) -> None:
        self.findings.extend(other.findings)
        self.clears.extend(other.clears)


@runtime_checkable
class Monitor(Protocol):
    """Consumes block batches. ``name`` is the configured monitor name."""

    name: str

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        """Findings and clears for the blocks of ``batch``."""
        ...

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        """Forget state derived from the removed blocks (alerts anchored on them are retracted by the
        pipeline); may return clears."""
        ...


@runtime_checkable
class PolledMonitor(Protocol):
    """Polls state on a schedule instead of (or as well as) reading blocks."""

    name: str
    interval: timedelta

    async def poll(self, session: AsyncSession) -> MonitorOutput: ...
