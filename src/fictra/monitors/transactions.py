"""Transactions (block-driven): a rolling window, by block timestamp, of throughput (overall and per
contract), reverted share per contract function (selector decoded from the ABI), PaymentToken
volume (Transfer logs) and the confirmation time of transactions the platform sent.

Each block becomes one small summary; running counters add it and subtract what leaves the window,
so a batch costs O(its transactions). Conditions are judged once per batch, anchored to its last
block, and clear when they no longer hold. ``record_sent(tx_hash, at)`` is the hook the platform's
sender calls; a platform transaction without a record is skipped.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.chain.manifest import Manifest
from fictra.chain.types import Block, BlockBatch, Reorg
from fictra.monitors.base import MonitorOutput
from fictra.monitors.common import ContractIndex, block_finding, lower_all, ref, top, topic
from fictra.monitors.config import TransactionsMonitor
from fictra.monitors.state import Conditions
from fictra.monitors.window_store import add_entries, drop_entries, load_entries

TRANSFER = topic("Transfer(address,address,uint256)")
MAX_TRACKED = 10_000  # platform transactions awaiting confirmation


@dataclass(slots=True)
class BlockSummary:
    number: int
    hash: str
    timestamp: int
    txs: int = 0
    per_contract: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)  # "Contract.function" -> calls
    errors: Counter[str] = field(default_factory=Counter)  # "Contract.function" -> reverted
    pt_volume: int = 0
    pt_senders: Counter[str] = field(default_factory=Counter)


def _counts(counter: Counter[str]) -> dict[str, int]:
    return {k: v for k, v in counter.items() if v}


def summary_state(s: BlockSummary) -> list[Any]:
    """A summary as JSON (PT amounts as strings: they exceed 2**63)."""
    return [
        s.number,
        s.hash,
        s.timestamp,
        s.txs,
        _counts(s.per_contract),
        _counts(s.calls),
        _counts(s.errors),
        str(s.pt_volume),
        {k: str(v) for k, v in s.pt_senders.items() if v},
    ]


def summary_from_state(raw: list[Any]) -> BlockSummary:
    number, block_hash, timestamp, txs, per_contract, calls, errors, volume, senders = raw
    return BlockSummary(
        number=int(number),
        hash=str(block_hash),
        timestamp=int(timestamp),
        txs=int(txs),
        per_contract=Counter({k: int(v) for k, v in per_contract.items()}),
        calls=Counter({k: int(v) for k, v in calls.items()}),
        errors=Counter({k: int(v) for k, v in errors.items()}),
        pt_volume=int(volume),
        pt_senders=Counter({k: int(v) for k, v in senders.items()}),
    )


class RollingWindow:
    """Block summaries within ``seconds`` of the newest block, with running totals."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.entries: deque[BlockSummary] = deque()
        self.txs = 0
        self.per_contract: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.pt_volume = 0
        self.pt_senders: Counter[str] = Counter()
        self.first_timestamp: int | None = None  # oldest block ever seen (window fully covered?)
        self.evicted = 0  # blocks evicted since the window was last saved

    def _apply(self, s: BlockSummary, sign: int) -> None:
        self.txs += sign * s.txs
        self.pt_volume += sign * s.pt_volume
        for total, part in (
            (self.per_contract, s.per_contract),
            (self.calls, s.calls),
            (self.errors, s.errors),
            (self.pt_senders, s.pt_senders),
        ):
            if sign > 0:
                total.update(part)
            else:
                total.subtract(part)
                for key in part:
                    if total[key] <= 0:
                        del total[key]

    def add(self, s: BlockSummary) -> None:
        if self.first_timestamp is None:
            self.first_timestamp = s.timestamp
        self.entries.append(s)
        self._apply(s, 1)
        while self.entries and self.entries[0].timestamp <= s.timestamp - self.seconds:
            self._apply(self.entries.popleft(), -1)
            self.evicted += 1

    def load(self, first: int | None, entries: list[list[Any]]) -> None:
        """Back to exactly these blocks and totals (stored by :mod:`fictra.monitors.window_store`)."""
        self.entries.clear()
        self.txs = self.pt_volume = 0
        for total in (self.per_contract, self.calls, self.errors, self.pt_senders):
            total.clear()
        self.first_timestamp = first
        self.evicted = 0
        for raw in entries:
            summary = summary_from_state(raw)
            self.entries.append(summary)
            self._apply(summary, 1)

    def drop_after(self, number: int) -> None:
        while self.entries and self.entries[-1].number > number:
            self._apply(self.entries.pop(), -1)

    def covered(self, now: int) -> bool:
        return self.first_timestamp is not None and now - self.first_timestamp >= self.seconds


class TransactionsCheck:
    def __init__(self, *, config: TransactionsMonitor, manifest: Manifest) -> None:
        self.config = config
        self.name = config.name
        self.network = manifest.network
        self.index = ContractIndex.from_manifest(manifest, config.contracts)
        pt = manifest.contracts.get("PaymentToken")
        self.pt_address = pt.address.lower() if pt else None
        self.platform = lower_all(config.platform_senders)
        self.window = RollingWindow(config.thresholds.window.total_seconds())
        self.sent: dict[str, float] = {}  # tx hash -> unix time the platform sent it
        self.conditions = Conditions(monitor=config.name, network=self.network)
        self.settled = False  # the window spans its full length (rates are meaningful)
        self.window_loaded = False  # the window's blocks are read from monitor_state at the first batch
        self.first_timestamp: int | None = None  # from the snapshot: when the window began

    def record_sent(self, tx_hash: str, at: datetime) -> None:
        """The platform sent ``tx_hash`` at ``at``; its confirmation time is judged when it is mined."""
        self.sent[tx_hash.lower()] = at.timestamp()
        while len(self.sent) > MAX_TRACKED:  # never mined (dropped or replaced): forget the oldest
            del self.sent[next(iter(self.sent))]

    def snapshot(self) -> dict[str, Any]:
        """The platform transactions awaiting confirmation, the open conditions and when the window began
        (its blocks are rows of ``monitor_window``, written by :meth:`on_batch`)."""
        return {
            "first": self.window.first_timestamp,
            "sent": dict(self.sent),
            "settled": self.settled,
            "conditions": self.conditions.snapshot(),
        }

    def restore(self, state: dict[str, Any] | None) -> None:
        self.first_timestamp = state.get("first") if state else None
        self.window.load(None, [])
        self.window_loaded = False  # the next batch reads the window's blocks back
        self.sent = {str(h): float(at) for h, at in (state or {}).get("sent", {}).items()}
        self.settled = bool(state.get("settled")) if state else False
        self.conditions.restore(state["conditions"] if state else None)

    async def _load_window(self, session: AsyncSession) -> None:
        if not self.window_loaded:
            entries = await load_entries(session, network=self.network, monitor=self.name)
            first = (
                self.first_timestamp
                if self.first_timestamp is not None
                else (int(entries[0][2]) if entries else None)
            )
            self.window.load(first, entries)
            self.window_loaded = True

    async def _save_window(self, session: AsyncSession, added: list[BlockSummary]) -> None:
        """Insert this batch's blocks still in the window; delete the rows of the blocks it evicted."""
        if not added or not self.window.entries:
            return
        kept = self.window.entries[0].number
        if self.window.evicted:
            await drop_entries(session, network=self.network, monitor=self.name, below=kept)
            self.window.evicted = 0
        new = [(s.number, summary_state(s)) for s in added if s.number >= kept]
        await add_entries(session, network=self.network, monitor=self.name, entries=new)

    def _summarize(self, block: Block, slow: list[tuple[str, str, float]], fast: set[str]) -> BlockSummary:
        s = BlockSummary(number=block.number, hash=block.hash, timestamp=block.timestamp, txs=len(block.txs))
        for tx in block.txs:
            watched = self.index.get(tx.to)
            if watched is not None:
                s.per_contract[watched.name] += 1
                fn = watched.function_of(tx)
                s.calls[fn] += 1
                if tx.status == 0:
                    s.errors[fn] += 1
            if self.pt_address is not None and tx.status == 1:
                for log in tx.logs:
                    if log.address == self.pt_address and log.topics and log.topics[0] == TRANSFER:
                        if len(log.topics) > 1 and int(log.topics[1], 16) == 0:
                            continue  # a mint is issuance (secure mint against the reserve), not PT moving
                        value = int(log.data, 16) if len(log.data) > 2 else 0
                        s.pt_volume += value
                        s.pt_senders["0x" + log.topics[1][-40:]] += value
            if tx.sender in self.platform:
                at = self.sent.pop(tx.hash, None)
                if at is not None:
                    took = block.timestamp - at
                    if took > self.config.thresholds.max_confirmation_time.total_seconds():
                        slow.append((tx.sender, tx.hash, took))
                    else:
                        fast.add(tx.sender)
        return s

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        if not batch.blocks:
            return MonitorOutput()
        await self.conditions.resume(session)
        await self._load_window(session)
        out = MonitorOutput()
        added: list[BlockSummary] = []
        for block in batch.blocks:  # judged block by block: a finding is anchored where it was seen
            slow: list[tuple[str, str, float]] = []
            fast: set[str] = set()
            added.append(self._summarize(block, slow, fast))
            self.window.add(added[-1])
            anchor = ref(block)
            self.settled = self.window.covered(block.timestamp)
            self._confirmations(block, anchor, slow, fast, out)
            self._throughput(block, anchor, out)
            self._error_rates(anchor, out)
            self._pt_volume(anchor, out)
        await self._save_window(session, added)
        return out

    def _finding(
        self,
        severity: Severity,
        summary: str,
        labels: dict[str, str],
        block: BlockRef,
        evidence: dict[str, object],
    ) -> Finding:
        return block_finding(
            self.config,
            network=self.network,
            severity=severity,
            summary=summary,
            labels=labels,
            block=block,
            evidence={"window_s": self.window.seconds, **evidence},
        )

    def _confirmations(
        self,
        last: Block,
        anchor: BlockRef,
        slow: list[tuple[str, str, float]],
        fast: set[str],
        out: MonitorOutput,
    ) -> None:
        """One condition for the platform's sending: held while any of its transactions was mined
        late or is still pending past the limit; cleared by the next one mined in time."""
        limit = self.config.thresholds.max_confirmation_time.total_seconds()
        late: list[tuple[float, str, str | None, bool]] = [
            (took, h, sender, True) for sender, h, took in slow
        ]
        late += [
            (last.timestamp - at, h, None, False)
            for h, at in self.sent.items()
            if last.timestamp - at > limit
        ]
        labels = {"condition": "slow_confirmation"}
        if not late:
            if fast:
                self.conditions.release(labels, out, block=anchor)
            return
        took, tx_hash, sender, mined = max(late, key=lambda item: item[0])
        state = "mined after" if mined else "still pending after"
        self.conditions.hold_lazy(
            labels,
            lambda: Finding(
                monitor=self.name,
                severity=self.config.severity.slow_confirmation,
                summary=f"Platform transaction {tx_hash} {state} {took:.0f}s (limit {limit:.0f}s)",
                labels=labels,
                network=self.network,
                block=anchor,
                tx_hashes=tuple(item[1] for item in late[:10]),
                evidence={
                    "observed_s": took,
                    "threshold_s": limit,
                    "mined": mined,
                    "sender": sender,
                    "late_transactions": len(late),
                },
                confirmations=self.config.confirmations,
            ),
            out,
        )

    def _throughput(self, last: Block, anchor: BlockRef, out: MonitorOutput) -> None:
        t, w = self.config.thresholds, self.window
        high = {"condition": "high_throughput", "scope": "network"}
        if t.max_tx_per_window is not None and w.txs > t.max_tx_per_window:
            self.conditions.hold_lazy(
                high,
                lambda: self._finding(
                    self.config.severity.high_throughput,
                    f"{w.txs} transactions in the last {w.seconds:.0f}s (limit {t.max_tx_per_window})",
                    high,
                    anchor,
                    {
                        "observed": w.txs,
                        "threshold": t.max_tx_per_window,
                        "top_contracts": top(dict(w.per_contract)),
                    },
                ),
                out,
            )
        else:
            self.conditions.release(high, out, block=anchor, settled=self.settled)
        low = {"condition": "low_throughput", "scope": "network"}
        if t.min_tx_per_window > 0 and w.covered(last.timestamp) and w.txs < t.min_tx_per_window:
            self.conditions.hold_lazy(
                low,
                lambda: self._finding(
                    self.config.severity.low_throughput,
                    f"Only {w.txs} transactions in the last {w.seconds:.0f}s (minimum {t.min_tx_per_window})",
                    low,
                    anchor,
                    {
                        "observed": w.txs,
                        "threshold": t.min_tx_per_window,
                        "top_contracts": top(dict(w.per_contract)),
                    },
                ),
                out,
            )
        else:
            self.conditions.release(low, out, block=anchor, settled=self.settled)

    def _error_rates(self, anchor: BlockRef, out: MonitorOutput) -> None:
        t, w = self.config.thresholds, self.window
        failing: set[str] = set()
        for fn, calls in w.calls.items():
            errors = w.errors.get(fn, 0)
            if calls >= t.min_calls_for_error_rate and errors / calls > t.max_error_rate:
                failing.add(fn)
                labels = {"condition": "error_rate", "function": fn}
                self.conditions.hold_lazy(
                    labels, partial(self._error_finding, fn, errors, calls, anchor), out
                )
        for labels in self.conditions.matching(condition="error_rate"):
            if labels["function"] not in failing:
                self.conditions.release(labels, out, block=anchor, settled=self.settled)

    def _error_finding(self, fn: str, errors: int, calls: int, anchor: BlockRef) -> Finding:
        limit = self.config.thresholds.max_error_rate
        return self._finding(
            self.config.severity.error_rate,
            f"{fn}: {errors} of {calls} calls reverted ({errors / calls:.0%}, limit {limit:.0%})",
            {"condition": "error_rate", "function": fn},
            anchor,
            {"observed": errors / calls, "threshold": limit, "calls": calls, "errors": errors},
        )

    def _pt_volume(self, anchor: BlockRef, out: MonitorOutput) -> None:
        limit, w = self.config.thresholds.max_pt_volume, self.window
        labels = {"condition": "pt_volume", "contract": "PaymentToken"}
        if limit is not None and w.pt_volume > limit:
            self.conditions.hold_lazy(labels, partial(self._pt_finding, limit, anchor), out)
        else:
            self.conditions.release(labels, out, block=anchor, settled=self.settled)

    def _pt_finding(self, limit: int, anchor: BlockRef) -> Finding:
        w = self.window
        return self._finding(
            self.config.severity.pt_volume,
            f"{w.pt_volume / 1e18:,.0f} PT moved in the last {w.seconds:.0f}s (limit {limit / 1e18:,.0f} PT)",
            {"condition": "pt_volume", "contract": "PaymentToken"},
            anchor,
            {
                "observed": str(w.pt_volume),
                "threshold": str(limit),
                "top_senders": [[a, str(v)] for a, v in top(dict(w.pt_senders))],
            },
        )

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        await self._load_window(session)
        self.window.drop_after(reorg.common_ancestor)
        await drop_entries(session, network=self.network, monitor=self.name, above=reorg.common_ancestor)
        self.conditions.forget_after(reorg.common_ancestor)
        return MonitorOutput()
