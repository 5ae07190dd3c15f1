"""What a monitor remembers between batches: the conditions it currently reports (so it emits a
Finding when a condition starts and a Clear when it ends) and its persisted anomaly baselines.

A block monitor with in-memory state implements :class:`Stateful`: ``snapshot()`` returns its state as a
plain JSON-serialisable dict and ``restore(state)`` puts it back (``None``: the initial state). The
:class:`~fictra.monitors.pipeline.AlertPipeline` writes the snapshots in the follower's transaction, so
after kill -9 the monitors restart exactly where the checkpoint is. A monitor without a snapshot (a DB
from before snapshots) takes its conditions over from the firing alerts instead (``resume``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import BlockRef, Clear, Finding, Severity
from fictra.alerting.models import Alert, AlertStatus, Confirmation
from fictra.clock import Clock
from fictra.monitors.base import MonitorOutput
from fictra.monitors.baseline import BaselineSet
from fictra.monitors.baseline_store import load_baselines, save_baselines
from fictra.monitors.models import BaselineState


def label_key(labels: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


@runtime_checkable
class Stateful(Protocol):
    """A block monitor whose in-memory state is persisted with the checkpoint (see the module doc)."""

    name: str

    def snapshot(self) -> dict[str, Any]: ...

    def restore(self, state: dict[str, Any] | None) -> None: ...


class Conditions:
    """The conditions one monitor currently reports. ``hold`` emits the finding only when the
    condition starts (or ``always``); ``release`` emits a Clear only for a condition that holds."""

    def __init__(self, *, monitor: str, network: str) -> None:
        self.monitor = monitor
        self.network = network
        self.active: dict[tuple[tuple[str, str], ...], Finding] = {}
        self.resumed = False
        self.inherited: set[tuple[tuple[str, str], ...]] = set()  # taken over from the alert store

    async def resume(self, session: AsyncSession | None) -> None:
        """Once, before the first batch or poll: take over the conditions this monitor left firing in the
        alert store (a restart), so they clear when they no longer hold."""
        if self.resumed or session is None:
            return
        self.resumed = True
        rows = await session.execute(
            select(Alert.labels, Alert.severity, Alert.summary, Alert.block_number, Alert.block_hash).where(
                Alert.monitor == self.monitor,
                Alert.network == self.network,
                Alert.status == AlertStatus.FIRING.value,
                Alert.confirmation != Confirmation.RETRACTED.value,
            )
        )
        for labels, severity, summary, number, block_hash in rows.all():
            key = label_key(dict(labels))
            if key not in self.active:
                self.inherited.add(key)
                self.active[key] = Finding(
                    monitor=self.monitor,
                    severity=Severity(severity),
                    summary=summary,
                    labels=dict(labels),
                    network=self.network,
                    block=BlockRef(number, block_hash or "") if number is not None else None,
                )

    def snapshot(self) -> list[list[Any]]:
        """The active conditions: ``[labels, severity, summary, block number, block hash]`` each."""
        return [
            [
                dict(key),
                f.severity.value,
                f.summary,
                f.block.number if f.block else None,
                f.block.hash if f.block else None,
            ]
            for key, f in sorted(self.active.items())
        ]

    def restore(self, state: list[list[Any]] | None) -> None:
        """Put a snapshot back (exactly what held at the checkpoint); ``None`` resets to nothing held,
        to be taken over from the alert store by :meth:`resume`."""
        self.active.clear()
        self.inherited.clear()
        self.resumed = state is not None
        for labels, severity, summary, number, block_hash in state or []:
            self.active[label_key(labels)] = Finding(
                monitor=self.monitor,
                severity=Severity(severity),
                summary=summary,
                labels=dict(labels),
                network=self.network,
                block=BlockRef(number, block_hash or "") if number is not None else None,
            )

    def hold(self, finding: Finding, out: MonitorOutput, *, always: bool = False) -> None:
        key = label_key(finding.labels)
        if key not in self.active or always:
            out.findings.append(finding)
        self.active[key] = finding
        self.inherited.discard(key)

    def hold_lazy(self, labels: dict[str, str], make: Callable[[], Finding], out: MonitorOutput) -> None:
        """Like :meth:`hold`, but builds the finding (evidence and all) only when the condition starts."""
        key = label_key(labels)
        if key in self.active:
            self.inherited.discard(key)
            return
        self.hold(make(), out)

    def release(
        self,
        labels: dict[str, str],
        out: MonitorOutput,
        *,
        block: BlockRef | None = None,
        settled: bool = True,
    ) -> None:
        """Clear the condition if it holds. ``settled=False`` (e.g. a rolling window not yet refilled
        after a restart) keeps a condition taken over from the alert store until the monitor knows."""
        key = label_key(labels)
        if not settled and key in self.inherited:
            return
        self.inherited.discard(key)
        if self.active.pop(key, None) is not None:
            out.clears.append(Clear(monitor=self.monitor, labels=labels, network=self.network, block=block))

    def holds(self, labels: dict[str, str]) -> bool:
        return label_key(labels) in self.active

    def forget_after(self, block_number: int) -> None:
        """A reorg retracts alerts anchored above ``block_number``: forget those conditions too, so
        the new branch raises them again if they still hold."""
        for key, finding in list(self.active.items()):
            if finding.block is not None and finding.block.number > block_number:
                del self.active[key]

    def matching(self, **wanted: str) -> list[dict[str, str]]:
        return [dict(key) for key in self.active if all(dict(key).get(k) == v for k, v in wanted.items())]


class BaselineStore:
    """Loads a monitor's baselines once and saves the series a batch touched with one upsert (no
    read-before-write), in the caller's session so they commit with the follower's checkpoint."""

    def __init__(self, *, monitor: str, baselines: BaselineSet, clock: Clock) -> None:
        self.monitor = monitor
        self.baselines = baselines
        self.clock = clock
        self.loaded = False

    def reset(self) -> None:
        """Forget the in-memory baselines: the next :meth:`load` reads what the DB holds (a restore)."""
        self.baselines.series = {}
        self.loaded = False

    async def load(self, session: AsyncSession) -> None:
        if not self.loaded:
            self.baselines.load_state(await load_baselines(session, monitor=self.monitor))
            self.loaded = True

    async def save(self, session: AsyncSession, series: Iterable[str]) -> None:
        now = self.clock.now()
        states = {
            key: self.baselines.series[key].to_state() for key in set(series) if key in self.baselines.series
        }
        if not states:
            return
        rows = [
            {"monitor": self.monitor, "series": key, "state": state, "updated_at": now}
            for key, state in sorted(states.items())
        ]
        dialect = session.bind.dialect.name if session.bind is not None else ""
        if dialect == "postgresql":
            pg = postgresql_insert(BaselineState).values(rows)
            await session.execute(
                pg.on_conflict_do_update(
                    index_elements=["monitor", "series"],
                    set_={"state": pg.excluded.state, "updated_at": pg.excluded.updated_at},
                )
            )
        elif dialect == "sqlite":
            lite = sqlite_insert(BaselineState).values(rows)
            await session.execute(
                lite.on_conflict_do_update(
                    index_elements=["monitor", "series"],
                    set_={"state": lite.excluded.state, "updated_at": lite.excluded.updated_at},
                )
            )
        else:
            await save_baselines(session, monitor=self.monitor, states=states, clock=self.clock)
