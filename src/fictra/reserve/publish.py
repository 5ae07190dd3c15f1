"""The proof-of-reserve publisher: a job that computes the proof of reserve at the head and, when the
counted value moved by ``min_change_bps`` or the published answer is older than ``max_age``, signs
``ProofOfReserveFeed.updateAnswer(value)`` with the operator key through :class:`~fictra.chain.sender.
TxSender`. The signed transaction is recorded (``reserve_por_updates``, with its audit entry) and committed
before it is broadcast; a later run marks it confirmed or failed from its receipt and publishes nothing
while one is still pending. The PaymentToken's secure-mint check reads the feed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode as abi_encode
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.audit.service import record as audit_record
from fictra.chain.pool import RpcPool
from fictra.chain.sender import SignedTx, TxSender, TxSigner
from fictra.clock import Clock
from fictra.jobs import Job, JobContext
from fictra.monitors.common import decode_word, selector
from fictra.reserve.config import PublisherConfig
from fictra.reserve.models import PorUpdate
from fictra.reserve.reads import ReserveReader

__all__ = ["Publisher", "needs_update", "publisher_job"]

log = logging.getLogger(__name__)
UPDATE_ANSWER = selector("updateAnswer(int256)")
LATEST = selector("latestRoundData()")
ACTOR = "system:reserve.publisher"


def needs_update(
    *, value: int, published: int, published_at: int, now: int, min_change_bps: int, max_age: int
) -> bool:
    """True when ``value`` differs from the ``published`` answer by at least ``min_change_bps`` (any
    difference when it is 0) or the answer is older than ``max_age`` seconds."""
    if published_at == 0 or now - published_at >= max_age:
        return True
    if value == published:
        return False
    return abs(value - published) * 10_000 >= min_change_bps * max(published, 1)


@dataclass
class _Store:
    """The sender's TxStore: the row and its audit entry, committed before the broadcast."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    network: str
    answer: int
    block: int

    async def record(self, tx: SignedTx) -> None:
        async with self.sessions.begin() as session:
            row = PorUpdate(
                network=self.network, answer=str(self.answer), block_number=self.block, signer=tx.signer,
                nonce=tx.nonce, tx_hash=tx.tx_hash, raw=tx.raw, status="sent", created_at=self.clock.now(),
            )  # fmt: skip
            session.add(row)
            await audit_record(
                session,
                actor=ACTOR,
                action="reserve.por_publish",
                target=f"por:{tx.tx_hash}",
                after={"answer": str(self.answer), "block": self.block, "nonce": tx.nonce},
                clock=self.clock,
            )


class Publisher:
    def __init__(
        self,
        *,
        config: PublisherConfig,
        reader: ReserveReader,
        pool: RpcPool,
        sender: TxSender,
        signer: Callable[[], TxSigner],
        feed: str,
        network: str,
        clock: Clock,
    ) -> None:
        self.config, self.reader, self.pool, self.sender = config, reader, pool, sender
        self.signer, self.feed, self.network, self.clock = signer, feed, network, clock

    async def _settle(self, sessions: async_sessionmaker[AsyncSession]) -> bool:
        """Mark sent updates confirmed/failed; True while one is still pending."""
        pending = False
        async with sessions.begin() as session:
            rows = (
                await session.scalars(
                    select(PorUpdate).where(PorUpdate.network == self.network, PorUpdate.status == "sent")
                )
            ).all()
            for row in rows:
                receipt = await self.sender.receipt(row.tx_hash)
                if receipt is None:
                    pending = True
                    continue
                row.status = "confirmed" if receipt.ok else "failed"
                await audit_record(
                    session, actor=ACTOR, action=f"reserve.por_{row.status}", target=f"por:{row.tx_hash}",
                    after={"block": receipt.block_number}, clock=self.clock,
                )  # fmt: skip
        return pending

    async def run_once(self, sessions: async_sessionmaker[AsyncSession]) -> SignedTx | None:
        """One round: settle, then publish when due. Returns the transaction sent, if any."""
        if await self._settle(sessions):
            return None
        block: dict[str, Any] = await self.pool.call("eth_getBlockByNumber", ["latest", False])
        number, timestamp = int(block["number"], 16), int(block["timestamp"], 16)
        proof = await self.reader.read(block=number, timestamp=timestamp)
        raw = await self.pool.call("eth_call", [{"to": self.feed, "data": LATEST}, hex(number)])
        _rid, answer, _started, updated, _air = decode_word(
            raw, "(uint80,int256,uint256,uint256,uint80)", what="ProofOfReserve.latestRoundData"
        )
        due = needs_update(
            value=proof.value, published=int(answer), published_at=int(updated), now=timestamp,
            min_change_bps=self.config.min_change_bps, max_age=int(self.config.max_age.total_seconds()),
        )  # fmt: skip
        if not due:
            return None
        data = UPDATE_ANSWER + abi_encode(["int256"], [proof.value]).hex()
        store = _Store(sessions, self.clock, self.network, proof.value, number)
        tx = await self.sender.send(
            signer=self.signer(), to=self.feed, data=data, store=store, label="ProofOfReserve.updateAnswer"
        )
        log.info(
            "proof of reserve: published %s USD wei at block %d (tx %s)", proof.value, number, tx.tx_hash
        )
        return tx


def publisher_job(publisher: Publisher) -> Job:
    async def run(job: JobContext) -> None:
        await publisher.run_once(job.sessions)

    return Job(name="reserve.por_publish", every=publisher.config.every, run=run)
