"""AML typologies over a stream of PT/FT transfers (AMLSim's patterns), in a sliding window of block time.

:class:`TypologyDetector` sees transfers in block order and returns :class:`TypologyHit` values, each with
its typology, subject address, the score of the hit and the address's risk score (the weights of its hits in
the window, :class:`~fictra.compliance.config.AmlConfig`). Every check costs O(1) per transfer except the
cycle search, bounded by ``max_cycle`` and run only when the new edge can close a cycle (the recipient
already sends in the window and the sender already receives); it uses networkx's bounded simple paths.

    large                 one transfer ≥ large_amount
    structuring           ≥ structuring_count transfers by one sender just below the threshold
    fan_in / fan_out      ≥ fan_count distinct senders to / recipients from one address
    cycle                 a closed path of ≤ max_cycle transfers (subject: its smallest address)
    pass_through          an inflow ≥ pass_through_min sent on (≥ ratio of it) within the window
    scatter_gather        a source pays ≥ group_count intermediaries that all pay one sink (subject: sink)
    gather_scatter        ≥ group_count senders into a hub that pays ≥ group_count recipients
    dormant_active        an address silent for dormant_after moves ≥ dormant_amount
    fresh_counterparties  one sender pays ≥ fresh_count addresses never seen before

A hit is reported once per (typology, subject) while it stays in the window.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import networkx as nx  # type: ignore[import-untyped]

from fictra.compliance.config import AmlConfig
from fictra.compliance.transfers import ZERO, Transfer

__all__ = ["TYPOLOGIES", "TypologyDetector", "TypologyHit"]

TYPOLOGIES = (
    "large", "structuring", "fan_in", "fan_out", "cycle", "pass_through", "scatter_gather", "gather_scatter",
    "dormant_active", "fresh_counterparties",
)  # fmt: skip


@dataclass(frozen=True)
class TypologyHit:
    typology: str
    subject: str
    score: float
    risk: float  # the subject's score in the window, this hit included
    transfer: Transfer
    evidence: dict[str, object] = field(default_factory=dict)


class TypologyDetector:
    def __init__(self, config: AmlConfig, *, exempt: Iterable[str] = ()) -> None:
        self.config = config
        self.exempt = frozenset(
            a.lower() for a in exempt
        )  # contracts (pool, reserve, fee collector): not parties
        unit = 10**config.decimals
        self.large = int(config.large_amount * unit)
        self.structuring_high = int(config.structuring_threshold * unit)
        self.structuring_low = int(config.structuring_threshold * (1 - config.structuring_margin) * unit)
        self.pass_min = int(config.pass_through_min * unit)
        self.dormant_min = int(config.dormant_amount * unit)
        self.window = config.window.total_seconds()
        self.dormant_after = config.dormant_after.total_seconds()
        self.edges: deque[Transfer] = deque()
        self.graph: nx.DiGraph = nx.DiGraph()  # edges in the window, attribute n = transfers
        self.first_seen: dict[str, float] = {}
        self.last_seen: dict[str, float] = {}
        self.near: dict[str, deque[float]] = defaultdict(deque)  # sender -> times of near-threshold transfers
        self.inflows: dict[str, deque[tuple[float, int]]] = defaultdict(deque)  # recipient -> (time, value)
        self.fresh: dict[str, deque[tuple[float, str]]] = defaultdict(
            deque
        )  # sender -> (time, fresh recipient)
        self.reported: dict[tuple[str, str], float] = {}  # (typology, subject) -> when
        self.scores: dict[str, deque[tuple[float, float]]] = defaultdict(deque)
        self.transfers = 0

    # -- the window -------------------------------------------------------------------------------------
    def _expire(self, now: float) -> None:
        edge_limit = now - self.window
        while self.edges and self.edges[0].timestamp <= edge_limit:
            t = self.edges.popleft()
            data = self.graph.get_edge_data(t.sender, t.recipient)
            if data is not None:
                data["n"] -= 1
                if data["n"] <= 0:
                    self.graph.remove_edge(t.sender, t.recipient)
                    for node in (t.sender, t.recipient):
                        if node in self.graph and self.graph.degree(node) == 0:
                            self.graph.remove_node(node)
        if len(self.reported) > 4096:
            self.reported = {k: v for k, v in self.reported.items() if v > edge_limit}

    def _trim(self, items: deque[Any], now: float) -> None:
        limit = now - self.window
        while items:
            head = items[0]
            when = head[0] if isinstance(head, tuple) else head
            if when > limit:
                break
            items.popleft()

    def _risk(self, subject: str, now: float, add: float) -> float:
        entries = self.scores[subject]
        self._trim(entries, now)
        entries.append((now, add))
        return sum(s for _, s in entries)

    def _hit(
        self, out: list[TypologyHit], typology: str, subject: str, t: Transfer, **evidence: object
    ) -> None:
        key = (typology, subject)
        seen = self.reported.get(key)
        if seen is not None and seen > t.timestamp - self.window:
            return
        self.reported[key] = t.timestamp
        score = float(self.config.weights.get(typology, 1.0))
        out.append(
            TypologyHit(typology, subject, score, self._risk(subject, t.timestamp, score), t, dict(evidence))
        )

    # -- one transfer -----------------------------------------------------------------------------------
    def know(self, addresses: Iterable[str], at: float = 0.0) -> None:
        """Addresses seen before (the known addresses of the database): not fresh counterparties."""
        for a in addresses:
            self.first_seen.setdefault(a, at)

    def observe(self, transfers: Iterable[Transfer]) -> list[TypologyHit]:
        out: list[TypologyHit] = []
        for t in transfers:
            if t.sender in self.exempt or t.recipient in self.exempt:
                continue  # swaps through the pool, issuance and redemption by the reserve, fees
            if t.sender == ZERO or t.recipient == ZERO or t.sender == t.recipient:
                # mints and burns move no value between parties; the minted party is known from now on
                party = t.recipient if t.sender == ZERO else t.sender
                self.first_seen.setdefault(party, float(t.timestamp))
                self.last_seen[party] = float(t.timestamp)
                continue
            self.transfers += 1
            self._one(t, out)
        return out

    def _one(self, t: Transfer, out: list[TypologyHit]) -> None:
        now, s, r, v = float(t.timestamp), t.sender, t.recipient, t.value
        self._expire(now)
        fresh_recipient = r not in self.first_seen
        for a in (s, r):
            last = self.last_seen.get(a)
            if last is not None and now - last >= self.dormant_after and v >= self.dormant_min:
                self._hit(out, "dormant_active", a, t, silent_seconds=int(now - last))
            self.last_seen[a] = now
            self.first_seen.setdefault(a, now)
        if v >= self.large:
            self._hit(out, "large", s, t, value=str(v))
        if self.structuring_low <= v < self.structuring_high:
            near = self.near[s]
            self._trim(near, now)
            near.append(now)
            if len(near) >= self.config.structuring_count:
                self._hit(out, "structuring", s, t, transfers=len(near))
        if fresh_recipient:
            fresh = self.fresh[s]
            self._trim(fresh, now)
            fresh.append((now, r))
            if len({x for _, x in fresh}) >= self.config.fresh_count:
                self._hit(out, "fresh_counterparties", s, t, fresh=len(fresh))
        inflow = self.inflows.get(s)
        if inflow:
            self._trim(inflow, now)
            for _, received in inflow:
                if v >= received * self.config.pass_through_ratio and v <= received:
                    self._hit(out, "pass_through", s, t, received=str(received), sent=str(v))
                    break
        if v >= self.pass_min:
            self.inflows[r].append((now, v))
        g = self.graph
        closes = r in g and s in g and g.out_degree(r) > 0 and g.in_degree(s) > 0
        data = g.get_edge_data(s, r)
        if data is None:
            g.add_edge(s, r, n=1)
        else:
            data["n"] += 1
        self.edges.append(t)
        if closes:
            self._cycle(t, out)
        k = self.config.fan_count
        indeg, outdeg = g.in_degree(r), g.out_degree(s)
        if indeg >= k:
            self._hit(out, "fan_in", r, t, senders=indeg)
        if outdeg >= k:
            self._hit(out, "fan_out", s, t, recipients=outdeg)
        m = self.config.group_count
        if g.in_degree(s) >= m and outdeg >= m:
            self._hit(out, "gather_scatter", s, t, senders=g.in_degree(s), recipients=outdeg)
        if indeg >= m:
            self._scatter_gather(t, out)

    def _cycle(self, t: Transfer, out: list[TypologyHit]) -> None:
        """A path recipient → … → sender of at most max_cycle - 1 edges closes a cycle with ``t``: a
        bidirectional search bounded by depth (forward from the recipient, backward from the sender)."""
        g, edges = self.graph, self.config.max_cycle - 1
        ahead: dict[str, str | None] = {t.recipient: None}
        behind: dict[str, str | None] = {t.sender: None}
        front, back = [t.recipient], [t.sender]
        for depth in range(edges):
            grow_ahead = depth % 2 == 0
            frontier, seen, step = (
                (front, ahead, g.successors) if grow_ahead else (back, behind, g.predecessors)
            )
            nxt: list[str] = []
            for node in frontier:
                for other in step(node):
                    if other in seen:
                        continue
                    seen[other] = node
                    nxt.append(other)
                    meet = other if other in (behind if grow_ahead else ahead) else None
                    if meet is not None:
                        path = _walk(ahead, meet)[::-1] + _walk(behind, meet)[1:]
                        if len(set(path)) == len(path):
                            self._hit(out, "cycle", min(path), t, members=path, length=len(path))
                            return
            if grow_ahead:
                front = nxt
            else:
                back = nxt
            if not nxt:
                return

    def _scatter_gather(self, t: Transfer, out: list[TypologyHit]) -> None:
        g, sink = self.graph, t.recipient
        sources: Counter[str] = Counter()
        for intermediary in g.predecessors(sink):
            for source in g.predecessors(intermediary):
                if source != sink:
                    sources[source] += 1
        for source, n in sources.items():
            if n >= self.config.group_count:
                self._hit(out, "scatter_gather", sink, t, source=source, intermediaries=n)
                return


def exposure(graph: nx.DiGraph, source: str, *, hops: int, decay: float) -> dict[str, tuple[float, int]]:
    """Addresses within ``hops`` transfers of ``source`` in either direction (paid by or paying it, directly
    or through others) -> (score decay**hop, hop), nearest hop first."""
    out: dict[str, tuple[float, int]] = {}
    if source not in graph or hops <= 0:
        return out
    frontier, seen = [source], {source}
    for hop in range(1, hops + 1):
        nxt = []
        for node in frontier:
            for other in (*graph.successors(node), *graph.predecessors(node)):
                if other not in seen:
                    seen.add(other)
                    out[other] = (decay**hop, hop)
                    nxt.append(other)
        frontier = nxt
    return out


def _walk(parents: dict[str, str | None], node: str) -> list[str]:
    """``node`` back to the root of a search (following ``parents``)."""
    out = [node]
    while (up := parents[out[-1]]) is not None:
        out.append(up)
    return out
