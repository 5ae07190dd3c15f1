"""Snapshots of monitor families that do not implement :class:`~fictra.monitors.state.Stateful`
themselves: an adapter copies their in-memory state in and out of a plain dict.

- oracle: per feed the open rounds (submissions by node), openings seen, the last ``SNAPSHOT_CLOSED``
  closed rounds (what a reorg can reopen after a restart), the last answer and round, missed-round
  counts, the feed's node list; and the open conditions.
- contract status: the block time of the last code-hash check and the open conditions (the known code
  hashes and implementations are persisted by the monitor itself and re-read after a restore).
- any other monitor with a ``conditions`` attribute: the open conditions.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from fictra.alerting.findings import BlockRef
from fictra.monitors.state import Conditions, Stateful

SNAPSHOT_CLOSED = 16  # closed rounds per feed kept across a restart (reorgs reopen the latest ones)


def _ref(block: BlockRef) -> list[Any]:
    return [block.number, block.hash]


class ConditionsAdapter:
    """A monitor whose only in-memory state is its :class:`Conditions` (``conditions`` attribute)."""

    def __init__(self, monitor: Any) -> None:
        self.monitor = monitor
        self.name: str = monitor.name

    @property
    def conditions(self) -> Conditions:
        conditions: Conditions = self.monitor.conditions
        return conditions

    def snapshot(self) -> dict[str, Any]:
        return {"conditions": self.conditions.snapshot()}

    def restore(self, state: dict[str, Any] | None) -> None:
        self.conditions.restore(state["conditions"] if state else None)


class ContractStatusAdapter(ConditionsAdapter):
    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "code_checked_at": self.monitor.code_checked_at}

    def restore(self, state: dict[str, Any] | None) -> None:
        super().restore(state)
        self.monitor.code_checked_at = state.get("code_checked_at") if state else None
        self.monitor.saved = None  # re-read the persisted code hashes and implementations
        self.monitor.code_hashes.clear()
        self.monitor.implementations.clear()


class OracleAdapter(ConditionsAdapter):
    def snapshot(self) -> dict[str, Any]:
        feeds: dict[str, Any] = {}
        for address, st in self.monitor.feeds.items():
            feeds[address] = {
                "nodes": st.nodes,
                "rounds": {
                    str(r): {n: [s.answer, s.tx_hash, _ref(s.block)] for n, s in subs.items()}
                    for r, subs in st.rounds.items()
                },
                "closed_up_to": st.closed_up_to,
                "opened": {str(r): b for r, b in st.opened.items()},
                "closed": [
                    [
                        c.round_id,
                        c.block,
                        c.answer,
                        {n: [s.answer, s.tx_hash, _ref(s.block)] for n, s in c.subs.items()},
                        c.opened_at,
                    ]
                    for c in list(st.closed)[-SNAPSHOT_CLOSED:]
                ],
                "last_answer": st.last_answer,
                "last_round": st.last_round,
                "misses": dict(st.misses),
            }
        return {**super().snapshot(), "feeds": feeds}

    def restore(self, state: dict[str, Any] | None) -> None:
        from fictra.monitors.oracle import Closed, Submission

        super().restore(state)
        stored = (state or {}).get("feeds", {})

        def sub(raw: list[Any]) -> Submission:
            return Submission(int(raw[0]), str(raw[1]), BlockRef(int(raw[2][0]), str(raw[2][1])))

        for address, st in self.monitor.feeds.items():
            s = stored.get(address)
            if s is None:  # nothing stored: the initial state
                s = {"nodes": None, "rounds": {}, "closed_up_to": 0, "opened": {}, "closed": []}
            st.nodes = list(s["nodes"]) if s.get("nodes") is not None else None
            st.rounds = {int(r): {n: sub(raw) for n, raw in subs.items()} for r, subs in s["rounds"].items()}
            st.closed_up_to = int(s["closed_up_to"])
            st.opened = {int(r): int(b) for r, b in s["opened"].items()}
            st.closed = deque(
                (
                    Closed(int(r), int(b), a, {n: sub(raw) for n, raw in subs.items()}, o)
                    for r, b, a, subs, o in s["closed"]
                ),
                maxlen=st.closed.maxlen,
            )
            st.last_answer = s.get("last_answer")
            st.last_round = s.get("last_round")
            st.misses = {n: int(c) for n, c in s.get("misses", {}).items()}


def adapter_for(monitor: object) -> Stateful | None:
    """The adapter for ``monitor``'s family (by class name, so this module imports no family), or None
    when it keeps no state worth persisting."""
    kind = type(monitor).__name__
    if kind == "OracleCheck":
        return OracleAdapter(monitor)
    if kind == "ContractStatusCheck":
        return ContractStatusAdapter(monitor)
    if isinstance(getattr(monitor, "conditions", None), Conditions) and isinstance(
        getattr(monitor, "name", None), str
    ):
        return ConditionsAdapter(monitor)
    return None
