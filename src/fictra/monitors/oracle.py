"""Oracle (block-driven) for the ``Feed:*`` contracts.

From the batch's ``SubmissionReceived`` logs it rebuilds each round's submissions. A round is judged
once it is *closed* (every oracle node submitted, or a later round opened): node_deviation (a node's
answer vs the round median beyond ``max_node_deviation_pct``), round_jump (median change vs the
previous closed round beyond ``max(max_round_jump_pct, feed deviation_bps)``), node_missing (a node
absent from ``missed_rounds`` consecutive closed rounds). Once per batch it reads every feed's
``latestRoundData()`` (and, the first time, ``oracleNodes()``) at the batch's last block in one RPC
batch: stale (last block time - updatedAt >= heartbeat + grace), answered_in_round
(answeredInRound < roundId) and out_of_bounds (answer outside the configured bounds, in feed units).
Each condition clears when healthy again (a fresh round, a good submission, an in-bounds answer).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from statistics import median

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.rpc import Call, CallReverted
from fictra.chain.types import Block, BlockBatch, Log, Reorg
from fictra.errors import ConfigError
from fictra.monitors.base import MonitorOutput
from fictra.monitors.common import (
    ContractIndex,
    Watched,
    block_finding,
    decode_word,
    has_data,
    ref,
    selector,
    topic,
)
from fictra.monitors.config import OracleMonitor
from fictra.monitors.state import Conditions

SUBMISSION = topic("SubmissionReceived(int256,uint32,address)")
NEW_ROUND = topic("NewRound(uint256,address,uint256)")
LATEST = selector("latestRoundData()")
NODES = selector("oracleNodes()")
MIN_FOR_MEDIAN = 3
KEEP_CLOSED = 256  # judged rounds remembered per feed (reorg depth they can be reopened from)


def _int256(word: str) -> int:
    value = int(word, 16)
    return value - (1 << 256) if value >= 1 << 255 else value


def _num(meta: dict[str, object], key: str, default: float) -> float:
    value = meta.get(key, default)
    return float(value) if isinstance(value, int | float | str) else default


@dataclass(slots=True)
class Submission:
    answer: int
    tx_hash: str
    block: BlockRef


@dataclass(frozen=True, slots=True)
class Closed:
    """A judged round, kept so a reorg below ``block`` can reopen it."""

    round_id: int
    block: int
    answer: int | None
    subs: dict[str, Submission]
    opened_at: int | None


@dataclass(slots=True)
class FeedState:
    watched: Watched
    heartbeat: float
    deviation_pct: float
    scale: float
    nodes: list[str] | None = None
    rounds: dict[int, dict[str, Submission]] = field(default_factory=dict)
    closed_up_to: int = 0
    opened: dict[int, int] = field(default_factory=dict)  # round -> block of its NewRound (seen opening)
    closed: deque[Closed] = field(default_factory=lambda: deque(maxlen=KEEP_CLOSED))
    last_answer: int | None = None
    last_round: int | None = None
    misses: dict[str, int] = field(default_factory=dict)


class OracleCheck:
    def __init__(self, *, config: OracleMonitor, manifest: Manifest, pool: RpcPool) -> None:
        self.config = config
        self.name = config.name
        self.network = manifest.network
        self.pool = pool
        names = config.contracts or [n for n in manifest.contracts if n.startswith("Feed:")]
        index = ContractIndex.from_manifest(manifest, names)
        not_feeds = [w.name for w in index.by_name.values() if w.artifact != "CommodityFeed"]
        unknown_bounds = sorted(set(config.thresholds.bounds) - set(index.by_name))
        if not_feeds or unknown_bounds:
            raise ConfigError(
                f"Monitor '{config.name}': {', '.join(not_feeds + unknown_bounds)} in 'contracts' or "
                "'thresholds.bounds' is not a watched price feed. Name feeds as 'Feed:<SYMBOL>'."
            )
        override = config.thresholds.heartbeat.total_seconds() if config.thresholds.heartbeat else None
        self.feeds = {
            w.address: FeedState(
                watched=w,
                heartbeat=override or _num(w.meta, "heartbeat", 3600),
                deviation_pct=_num(w.meta, "deviation_bps", 0) / 100,
                scale=10 ** _num(w.meta, "decimals", 8),
            )
            for w in index.by_name.values()
        }
        self.conditions = Conditions(monitor=config.name, network=self.network)

    def _finding(
        self,
        severity: Severity,
        summary: str,
        labels: dict[str, str],
        block: BlockRef,
        evidence: dict[str, object],
        tx_hashes: tuple[str, ...] = (),
    ) -> Finding:
        return block_finding(
            self.config,
            network=self.network,
            severity=severity,
            summary=summary,
            labels=labels,
            block=block,
            evidence=evidence,
            tx_hashes=tx_hashes,
        )

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        if not batch.blocks:
            return MonitorOutput()
        await self.conditions.resume(session)
        out = MonitorOutput()
        last = batch.blocks[-1]
        calls: list[Call] = [
            ("eth_call", [{"to": addr, "data": LATEST}, hex(last.number)]) for addr in self.feeds
        ]
        missing_nodes = [addr for addr, st in self.feeds.items() if st.nodes is None]
        calls += [("eth_call", [{"to": addr, "data": NODES}, hex(last.number)]) for addr in missing_nodes]
        # A feed may revert (no round yet at an early block): that feed is judged at a later batch.
        # a node without that block's state (not an archive node) answers at the head: marked below
        reads = await self.pool.read_state(calls)
        answers = reads.answers
        for addr, raw in zip(missing_nodes, answers[len(self.feeds) :], strict=True):
            if isinstance(raw, CallReverted) or not has_data(raw):
                continue
            nodes = decode_word(raw, "address[]", what=f"{self.feeds[addr].watched.name}.oracleNodes")
            self.feeds[addr].nodes = [str(n).lower() for n in nodes]
        for block in batch.blocks:
            for log in block.logs:
                state = self.feeds.get(log.address)
                if state is not None and len(log.topics) >= 2 and log.topics[0] == NEW_ROUND:
                    state.opened[int(log.topics[1], 16)] = block.number
                elif state is not None and len(log.topics) == 4 and log.topics[0] == SUBMISSION:
                    self._submission(state, log, block, out)
        for state in self.feeds.values():
            complete = [
                r
                for r, subs in state.rounds.items()
                if state.nodes and len(subs) >= len(state.nodes) and r > state.closed_up_to
            ]
            for round_id in sorted(complete):
                subs = state.rounds[round_id]
                self._close(state, round_id, subs, out)
        judged = len(out.findings)
        for state, raw in zip(self.feeds.values(), answers[: len(self.feeds)], strict=True):
            if isinstance(raw, CallReverted) or not has_data(raw):
                continue
            data = decode_word(
                raw, "(uint80,int256,uint256,uint256,uint80)", what=f"{state.watched.name}.latestRoundData"
            )
            self._latest(state, data, last, out)
        reads.mark(f.evidence for f in out.findings[judged:])
        return out

    # -- rounds -----------------------------------------------------------------------------------

    def _submission(self, state: FeedState, log: Log, block: Block, out: MonitorOutput) -> None:
        round_id = int(log.topics[2], 16)
        node = "0x" + log.topics[3][-40:]
        for open_round in sorted(r for r in state.rounds if r < round_id and r > state.closed_up_to):
            self._close(state, open_round, state.rounds[open_round], out, anchor=ref(block))
        if round_id > state.closed_up_to:
            state.rounds.setdefault(round_id, {})[node] = Submission(
                _int256(log.topics[1]), log.tx_hash, ref(block)
            )

    def _close(
        self,
        state: FeedState,
        round_id: int,
        subs: dict[str, Submission],
        out: MonitorOutput,
        anchor: BlockRef | None = None,
    ) -> None:
        state.closed_up_to = max(state.closed_up_to, round_id)
        state.rounds.pop(round_id, None)
        opened_at = state.opened.get(round_id)
        seen_whole = opened_at is not None  # else it opened before the monitor started: submissions missed
        state.opened = {r: b for r, b in state.opened.items() if r > state.closed_up_to}
        for stale in [r for r in state.rounds if r <= state.closed_up_to]:
            state.rounds.pop(stale)
        at = anchor or max((s.block for s in subs.values()), key=lambda b: b.number, default=None)
        answer = int(median(s.answer for s in subs.values())) if subs else None
        state.closed.append(Closed(round_id, at.number if at else 0, answer, dict(subs), opened_at))
        if not subs or at is None:
            return
        feed, t, sev = state.watched.name, self.config.thresholds, self.config.severity
        answers = [s.answer for s in subs.values()]
        mid = median(answers)
        if len(answers) >= MIN_FOR_MEDIAN and mid:
            for node, sub in subs.items():
                pct = abs(sub.answer - mid) / abs(mid) * 100
                labels = {"feed": feed, "node": node, "condition": "node_deviation"}
                if pct > t.max_node_deviation_pct:
                    summary = (
                        f"{feed} round {round_id}: node {node} answered {sub.answer / state.scale:g}, "
                        f"{pct:.1f}% from the median {mid / state.scale:g}"
                    )
                    evidence: dict[str, object] = {
                        "round": round_id,
                        "observed": sub.answer / state.scale,
                        "expected_median": mid / state.scale,
                        "deviation_pct": pct,
                        "threshold_pct": t.max_node_deviation_pct,
                    }
                    self.conditions.hold(
                        self._finding(
                            sev.node_deviation, summary, labels, sub.block, evidence, (sub.tx_hash,)
                        ),
                        out,
                    )
                else:
                    self.conditions.release(labels, out, block=sub.block)
        self._jump(state, round_id, int(mid), at, out)
        for node in state.nodes if seen_whole and state.nodes else []:
            labels = {"feed": feed, "node": node, "condition": "node_missing"}
            if node in subs:
                state.misses[node] = 0
                self.conditions.release(labels, out, block=at)
                continue
            state.misses[node] = state.misses.get(node, 0) + 1
            if state.misses[node] >= t.missed_rounds:
                missed = state.misses[node]
                summary = f"{feed}: node {node} missed {missed} rounds in a row (up to round {round_id})"
                evidence = {
                    "observed_missed": state.misses[node],
                    "threshold": t.missed_rounds,
                    "round": round_id,
                }
                self.conditions.hold(self._finding(sev.node_missing, summary, labels, at, evidence), out)

    def _jump(self, state: FeedState, round_id: int, answer: int, at: BlockRef, out: MonitorOutput) -> None:
        previous, state.last_answer, prev_round, state.last_round = (
            state.last_answer,
            answer,
            state.last_round,
            round_id,
        )
        if previous is None or previous == 0:
            return
        feed = state.watched.name
        limit = max(self.config.thresholds.max_round_jump_pct, state.deviation_pct)
        pct = abs(answer - previous) / abs(previous) * 100
        labels = {"feed": feed, "condition": "round_jump"}
        if pct <= limit:
            self.conditions.release(labels, out, block=at)
            return
        summary = f"{feed} moved {pct:.1f}% from round {prev_round} to round {round_id} (limit {limit:g}%)"
        evidence: dict[str, object] = {
            "round": round_id,
            "observed": answer / state.scale,
            "previous": previous / state.scale,
            "change_pct": pct,
            "threshold_pct": limit,
        }
        self.conditions.hold(
            self._finding(self.config.severity.round_jump, summary, labels, at, evidence), out
        )

    # -- latest round -----------------------------------------------------------------------------

    def _latest(self, state: FeedState, data: tuple[int, ...], last: Block, out: MonitorOutput) -> None:
        round_id, answer, _started, updated, answered_in = (int(x) for x in data)
        feed, t, sev, at = state.watched.name, self.config.thresholds, self.config.severity, ref(last)
        age = last.timestamp - updated
        limit = state.heartbeat + t.staleness_grace.total_seconds()
        labels = {"feed": feed, "condition": "stale"}
        if round_id and age >= limit:  # at the deadline the update is already overdue by the grace
            summary = (
                f"{feed} last updated {age:.0f}s ago at block {last.number} (heartbeat + grace {limit:.0f}s)"
            )
            evidence: dict[str, object] = {"observed_age_s": age, "threshold_s": limit, "round": round_id}
            self.conditions.hold(self._finding(sev.stale, summary, labels, at, evidence), out)
        else:
            self.conditions.release(labels, out, block=at)
        labels = {"feed": feed, "condition": "answered_in_round"}
        if answered_in < round_id:
            summary = f"{feed} round {round_id} carries the answer of round {answered_in}"
            evidence = {"observed": answered_in, "expected": round_id}
            self.conditions.hold(self._finding(sev.answered_in_round, summary, labels, at, evidence), out)
        else:
            self.conditions.release(labels, out, block=at)
        bounds = t.bounds.get(feed)
        labels = {"feed": feed, "condition": "out_of_bounds"}
        price = answer / state.scale
        low = bounds is not None and bounds.min is not None and price < bounds.min
        high = bounds is not None and bounds.max is not None and price > bounds.max
        if round_id and bounds is not None and (low or high):
            summary = f"{feed} answer {price:g} is outside [{bounds.min}, {bounds.max}] (round {round_id})"
            evidence = {"observed": price, "min": bounds.min, "max": bounds.max, "round": round_id}
            self.conditions.hold(self._finding(sev.out_of_bounds, summary, labels, at, evidence), out)
        else:
            self.conditions.release(labels, out, block=at)

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        """Forget submissions and openings in removed blocks and reopen rounds judged there (a deep
        reorg, or an evm_revert, replays lower round ids); missed-round counts restart."""
        ancestor = reorg.common_ancestor
        for state in self.feeds.values():
            while state.closed and state.closed[-1].block > ancestor:
                undone = state.closed.pop()
                state.rounds[undone.round_id] = dict(undone.subs)
                if undone.opened_at is not None:
                    state.opened[undone.round_id] = undone.opened_at
                state.misses.clear()
            if state.closed:
                state.closed_up_to = state.closed[-1].round_id
            else:
                state.closed_up_to = 0
            answered = [c for c in state.closed if c.answer is not None]
            state.last_round = answered[-1].round_id if answered else None
            state.last_answer = answered[-1].answer if answered else None
            state.opened = {r: b for r, b in state.opened.items() if b <= ancestor}
            for round_id in list(state.rounds):
                subs = {n: s for n, s in state.rounds[round_id].items() if s.block.number <= ancestor}
                if subs:
                    state.rounds[round_id] = subs
                else:
                    del state.rounds[round_id]
        self.conditions.forget_after(ancestor)
        return MonitorOutput()
