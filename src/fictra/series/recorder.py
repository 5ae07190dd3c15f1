""":class:`SeriesRecorder` — a block monitor that writes the charts' samples in the follower's transaction.

Per block: ``tx_count`` (throughput), ``tx_reverted`` (errors; error rate = sum(tx_reverted)/sum(tx_count)),
``gas_used_ratio``, ``base_fee_gwei``, ``block_interval_s`` (seconds since the previous block: the time a
transaction waits to be confirmed, as far as the chain itself shows it). Per price feed
(``Feed:<SYMBOL>`` in the manifest): ``oracle.<SYMBOL>.answer`` from ``AnswerUpdated`` and
``oracle.<SYMBOL>.node.<address>`` from each node's ``SubmissionReceived``, in feed units.

It never raises findings. Its only state, the previous block's timestamp, is read back from its own
``tx_count`` sample whenever the batch does not follow the block it remembers (a restart, a rolled-back
batch delivered again, a reorg), so the first block after a restart gets its ``block_interval_s`` too —
at no cost on the hot path. On the hot path it costs one bulk INSERT per batch; a reorg deletes the samples
of the removed blocks. Samples older than ``retention_blocks`` behind the newest block are deleted every
``prune_every`` blocks (one indexed DELETE), so the table stays bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.chain.manifest import Manifest
from fictra.chain.types import Block, BlockBatch, Reorg
from fictra.monitors.base import MonitorOutput
from fictra.monitors.common import FEED_PREFIX, topic
from fictra.series.models import SeriesSample

SUBMISSION = topic("SubmissionReceived(int256,uint32,address)")
ANSWER = topic("AnswerUpdated(int256,uint256,uint256)")
_TABLE = cast(Table, SeriesSample.__table__)
BLOCK_SERIES = ("tx_count", "tx_reverted", "gas_used_ratio", "base_fee_gwei", "block_interval_s")


@dataclass(frozen=True, slots=True)
class FeedInfo:
    symbol: str
    scale: float  # 10 ** decimals


def _int256(word: str) -> int:
    value = int(word, 16)
    return value - (1 << 256) if value >= 1 << 255 else value


def feeds_of(manifest: Manifest) -> dict[str, FeedInfo]:
    """Price feeds of the manifest by lower-case address."""
    feeds: dict[str, FeedInfo] = {}
    for name, entry in manifest.contracts.items():
        if name.startswith(FEED_PREFIX):
            decimals = entry.meta.get("decimals", 8)
            digits = int(decimals) if isinstance(decimals, int | float | str) else 8
            feeds[entry.address.lower()] = FeedInfo(name[len(FEED_PREFIX) :], 10.0**digits)
    return feeds


class SeriesRecorder:
    """A :class:`~fictra.monitors.base.Monitor` that records the chart series (no findings)."""

    def __init__(
        self,
        *,
        network: str,
        feeds: Mapping[str, FeedInfo] | None = None,
        name: str = "series",
        retention_blocks: int = 250_000,
        prune_every: int = 1_000,
    ) -> None:
        self.name = name
        self.network = network
        self.feeds = {addr.lower(): info for addr, info in (feeds or {}).items()}
        self.retention_blocks = retention_blocks
        self.prune_every = prune_every
        self._last_timestamp: tuple[int, int] | None = None  # (block number, timestamp)
        self._pruned_at: int | None = None  # block number of the last prune

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> SeriesRecorder:
        return cls(network=manifest.network, feeds=feeds_of(manifest))

    def samples(self, block: Block) -> list[dict[str, Any]]:
        """The rows one block contributes (pure: used by the tests and the bench as well)."""
        t = block.timestamp
        net, number = self.network, block.number
        txs = block.txs
        reverted = sum(1 for tx in txs if tx.status == 0)
        rows: list[dict[str, Any]] = [
            {"network": net, "name": "tx_count", "block_number": number, "t": t, "value": float(len(txs))},
            {"network": net, "name": "tx_reverted", "block_number": number, "t": t, "value": float(reverted)},
        ]
        if block.gas_limit:
            ratio = block.gas_used / block.gas_limit
            rows.append(
                {"network": net, "name": "gas_used_ratio", "block_number": number, "t": t, "value": ratio}
            )
        if block.base_fee_per_gas is not None:
            gwei = block.base_fee_per_gas / 1e9
            rows.append(
                {"network": net, "name": "base_fee_gwei", "block_number": number, "t": t, "value": gwei}
            )
        last = self._last_timestamp
        if last is not None and last[0] == number - 1:
            gap = float(max(t - last[1], 0))
            rows.append(
                {"network": net, "name": "block_interval_s", "block_number": number, "t": t, "value": gap}
            )
        self._last_timestamp = (number, t)
        if self.feeds:
            for tx in txs:
                for log in tx.logs:
                    feed = self.feeds.get(log.address)
                    if feed is None or not log.topics:
                        continue
                    if log.topics[0] == ANSWER and len(log.topics) >= 2:
                        name = f"oracle.{feed.symbol}.answer"
                    elif log.topics[0] == SUBMISSION and len(log.topics) == 4:
                        name = f"oracle.{feed.symbol}.node.0x{log.topics[3][-40:]}"
                    else:
                        continue
                    value = _int256(log.topics[1]) / feed.scale
                    rows.append(
                        {"network": net, "name": name, "block_number": number, "t": t, "value": value}
                    )
        return rows

    async def _previous(self, session: AsyncSession, number: int) -> None:
        """Remember block ``number``'s timestamp from its recorded sample (None when not recorded)."""
        t = await session.scalar(
            select(SeriesSample.t).where(
                SeriesSample.network == self.network,
                SeriesSample.name == "tx_count",
                SeriesSample.block_number == number,
            )
        )
        self._last_timestamp = (number, int(t)) if t is not None else None

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        if batch.blocks and (self._last_timestamp is None or self._last_timestamp[0] != batch.first - 1):
            await self._previous(session, batch.first - 1)
        rows: list[dict[str, Any]] = []
        for block in batch.blocks:
            rows.extend(self.samples(block))
        if rows:
            await session.execute(_TABLE.insert(), rows)
        if batch.blocks:
            await self._prune(session, newest=batch.last)
        return MonitorOutput()

    async def _prune(self, session: AsyncSession, *, newest: int) -> None:
        if self._pruned_at is not None and newest - self._pruned_at < self.prune_every:
            return
        self._pruned_at = newest
        await session.execute(
            delete(SeriesSample).where(
                SeriesSample.network == self.network,
                SeriesSample.block_number <= newest - self.retention_blocks,
            )
        )

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        await session.execute(
            delete(SeriesSample).where(
                SeriesSample.network == reorg.network, SeriesSample.block_number > reorg.common_ancestor
            )
        )
        self._last_timestamp = None  # read back from the ancestor's sample with the next batch
        return MonitorOutput()
