"""The alert pipeline's core, as the chain follower's consumer.

``on_batch(batch, session)`` runs every monitor on the batch, applies their findings and clears to the
alert store, confirms alerts that are now deep enough and hands the changes to ``on_changes`` — all in
the follower's transaction, so alerts and the checkpoint commit together. ``on_reorg`` retracts alerts
anchored on removed blocks.

Monitor state survives a crash exactly: before the first batch, and whenever a batch does not follow the
last one applied in full (a monitor raised, or the transaction rolled back), the monitors' snapshots are
restored from ``monitor_state``; after every batch and reorg the snapshots that changed are written in
the same transaction (:mod:`fictra.monitors.snapshots`).

Later stages (inhibit, silence, group, route, notify) consume the
:class:`~fictra.alerting.service.AlertChange` values.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.config import AlertPolicy
from fictra.alerting.service import AlertChange, apply_findings, confirm_up_to, retract_for_reorg
from fictra.chain.types import BlockBatch, Reorg
from fictra.clock import Clock
from fictra.monitors.base import Monitor, MonitorOutput
from fictra.monitors.snapshots import SnapshotStore

OnChanges = Callable[[list[AlertChange], AsyncSession], Awaitable[None]]


class AlertPipeline:
    def __init__(
        self,
        *,
        monitors: Sequence[Monitor],
        clock: Clock,
        policy: AlertPolicy | None = None,
        on_changes: OnChanges | None = None,
    ) -> None:
        self.monitors = list(monitors)
        self.clock = clock
        self.policy = policy or AlertPolicy()
        self.on_changes = on_changes
        self.latencies: deque[float] = deque(maxlen=10_000)  # block received -> alerts written, seconds
        self.snapshots = SnapshotStore(network=None, monitors=self.monitors, clock=clock)
        self.next_block: int | None = None  # the block the in-memory state expects next (None: restore)

    async def _sync(self, session: AsyncSession, *, network: str, first: int | None) -> None:
        """Restore the monitors' state from the DB unless it is known to be current."""
        if self.next_block is None or (first is not None and first != self.next_block):
            await self.snapshots.restore(session, network=network)

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> None:
        if batch.blocks:
            await self._sync(session, network=batch.network, first=batch.blocks[0].number)
            self.next_block = None  # a monitor that raises leaves the others half-applied: restore next time
        output = MonitorOutput()
        for monitor in self.monitors:
            output.extend(await monitor.on_batch(batch, session))
        if batch.blocks:
            await self.snapshots.save(session, network=batch.network, block=batch.last)
            self.next_block = batch.last + 1
        await self.ingest(session, output, network=batch.network, head=batch.head)
        if batch.received_at:
            self.latencies.append(self.clock.monotonic() - batch.received_at)

    async def ingest(
        self, session: AsyncSession, output: MonitorOutput, *, network: str, head: int | None
    ) -> list[AlertChange]:
        """Apply one monitor output (also used by polled monitors) and confirm what is deep enough."""
        changes: list[AlertChange] = []
        if output.findings or output.clears:
            result = await apply_findings(
                session, output.findings, output.clears, head=head, clock=self.clock, policy=self.policy
            )
            changes.extend(result.changes)
        if head is not None:
            changes.extend(await confirm_up_to(session, network=network, head=head, clock=self.clock))
        if changes and self.on_changes is not None:
            await self.on_changes(changes, session)
        return changes

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> None:
        await self._sync(session, network=reorg.network, first=None)
        self.next_block = None  # re-read after the reorg's transaction (it may roll back)
        output = MonitorOutput()
        for monitor in self.monitors:
            output.extend(await monitor.on_reorg(reorg, session))
        await self.snapshots.save(session, network=reorg.network, block=reorg.common_ancestor)
        changes = await retract_for_reorg(session, reorg=reorg, clock=self.clock)
        if output.clears:
            result = await apply_findings(
                session, [], output.clears, head=None, clock=self.clock, policy=self.policy
            )
            changes.extend(result.changes)
        if changes and self.on_changes is not None:
            await self.on_changes(changes, session)
