"""Block monitors' state in ``monitor_state``: loaded at start-up (and after a rolled-back batch), written
in the follower's transaction after every batch whose state changed, so the snapshots always match the
checkpoint they commit with.

A monitor takes part when it implements :class:`~fictra.monitors.state.Stateful`; for a monitor family
that keeps only :class:`~fictra.monitors.state.Conditions` (and state this module knows how to copy), an
adapter here does it from outside (:func:`stateful`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.clock import Clock
from fictra.monitors.models import MonitorState
from fictra.monitors.snapshot_adapters import adapter_for
from fictra.monitors.state import Stateful


def stateful(monitor: object) -> Stateful | None:
    """The monitor itself when it snapshots its own state, else an adapter for its family, else None."""
    if isinstance(monitor, Stateful):
        return monitor
    return adapter_for(monitor)


def encode(state: dict[str, Any]) -> bytes:
    return orjson.dumps(state, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


class SnapshotStore:
    """The snapshots of one network's block monitors, with what was last written (to skip no-op writes)."""

    def __init__(self, *, network: str | None, monitors: Sequence[object], clock: Clock) -> None:
        self.network = network
        self.clock = clock
        self.members: list[Stateful] = [s for s in (stateful(m) for m in monitors) if s is not None]
        self.written: dict[str, bytes] = {}

    async def restore(self, session: AsyncSession, *, network: str) -> None:
        """Every member back to what the DB holds (its initial state when nothing is stored)."""
        self.network = network
        rows = await session.execute(
            select(MonitorState.monitor, MonitorState.state).where(MonitorState.network == network)
        )
        stored = {name: dict(state) for name, state in rows.all()}
        self.written = {}
        for member in self.members:
            member.restore(stored.get(member.name))
            if member.name in stored:
                self.written[member.name] = encode(member.snapshot())

    async def save(self, session: AsyncSession, *, network: str, block: int) -> None:
        """Upsert the snapshots that changed since the last write (one statement)."""
        now = self.clock.now()
        rows: list[dict[str, Any]] = []
        encoded: dict[str, bytes] = {}
        for member in self.members:
            state = member.snapshot()
            blob = encode(state)
            if self.written.get(member.name) == blob:
                continue
            encoded[member.name] = blob
            rows.append(
                {
                    "network": network,
                    "monitor": member.name,
                    "block_number": block,
                    "state": orjson.loads(blob),  # plain JSON types (tuples -> lists, keys -> str)
                    "updated_at": now,
                }
            )
        if not rows:
            return
        dialect = session.bind.dialect.name if session.bind is not None else ""
        if dialect == "postgresql":
            pg = postgresql_insert(MonitorState).values(rows)
            await session.execute(
                pg.on_conflict_do_update(
                    index_elements=["network", "monitor"],
                    set_={
                        "state": pg.excluded.state,
                        "block_number": pg.excluded.block_number,
                        "updated_at": pg.excluded.updated_at,
                    },
                )
            )
        else:
            lite = sqlite_insert(MonitorState).values(rows)
            await session.execute(
                lite.on_conflict_do_update(
                    index_elements=["network", "monitor"],
                    set_={
                        "state": lite.excluded.state,
                        "block_number": lite.excluded.block_number,
                        "updated_at": lite.excluded.updated_at,
                    },
                )
            )
        # optimistic: a rolled-back transaction makes the pipeline restore() from the DB, resetting this
        self.written.update(encoded)
