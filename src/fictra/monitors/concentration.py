"""Concentration (block-driven): transfers of the watched token from several senders into one receiver
unknown to the deployment (not a manifest contract, not a role holder, not in ``known_accounts``) —
``min_amount`` or more from ``min_senders`` or more distinct senders within ``window`` of block time.
One condition per receiver (label ``receiver``): it fires once with the senders, the total and the
transactions as evidence, and clears when the window no longer holds the concentration. The window is
part of the monitor's snapshot, so a restart judges the same transfers.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import BlockRef
from fictra.chain.manifest import Manifest
from fictra.chain.types import BlockBatch, Reorg
from fictra.monitors.base import MonitorOutput
from fictra.monitors.common import block_finding, ref, topic
from fictra.monitors.config import ConcentrationMonitor
from fictra.monitors.roles import OUTSIDER_ROLES, address_of
from fictra.monitors.state import Conditions

TRANSFER = topic("Transfer(address,address,uint256)")
ZERO = "0x" + "00" * 20
MAX_TXS = 20  # transactions listed in the evidence


@dataclass(frozen=True, slots=True)
class Inflow:
    timestamp: int
    block: int
    block_hash: str
    sender: str
    receiver: str
    value: int
    tx_hash: str


class ConcentrationCheck:
    def __init__(self, *, config: ConcentrationMonitor, manifest: Manifest) -> None:
        self.config = config
        self.name = config.name
        self.network = manifest.network
        self.token = manifest.address(config.token).lower()
        known = {
            a.lower() for role, addrs in manifest.roles.items() if role not in OUTSIDER_ROLES for a in addrs
        }
        known |= {e.address.lower() for e in manifest.contracts.values()}
        known |= {a.lower() for a in config.known_accounts}
        self.known = known | {ZERO}
        self.window: deque[Inflow] = deque()
        self.conditions = Conditions(monitor=config.name, network=self.network)

    # -- state persisted with the checkpoint --------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "window": [
                [i.timestamp, i.block, i.block_hash, i.sender, i.receiver, str(i.value), i.tx_hash]
                for i in self.window
            ],
            "conditions": self.conditions.snapshot(),
        }

    def restore(self, state: dict[str, Any] | None) -> None:
        self.window.clear()
        for ts, number, block_hash, sender, receiver, value, tx_hash in (state or {}).get("window", []):
            self.window.append(Inflow(ts, number, block_hash, sender, receiver, int(value), tx_hash))
        self.conditions.restore((state or {}).get("conditions") if state is not None else None)

    # -- batches ------------------------------------------------------------------------------------

    async def on_batch(self, batch: BlockBatch, session: AsyncSession) -> MonitorOutput:
        out = MonitorOutput()
        if not batch.blocks:
            return out
        await self.conditions.resume(session)
        for block in batch.blocks:
            for log in block.logs:
                if log.address != self.token or len(log.topics) != 3 or log.topics[0] != TRANSFER:
                    continue
                receiver = address_of(log.topics[2])
                if receiver in self.known:
                    continue
                value = int(log.data, 16) if log.data not in ("", "0x") else 0
                self.window.append(
                    Inflow(
                        block.timestamp,
                        block.number,
                        block.hash,
                        address_of(log.topics[1]),
                        receiver,
                        value,
                        log.tx_hash,
                    )
                )
        last = batch.blocks[-1]
        horizon = last.timestamp - self.config.thresholds.window.total_seconds()
        while self.window and self.window[0].timestamp <= horizon:
            self.window.popleft()
        self._judge(ref(last), out)
        return out

    def _judge(self, at: BlockRef, out: MonitorOutput) -> None:
        t = self.config.thresholds
        by_receiver: dict[str, list[Inflow]] = {}
        for inflow in self.window:
            by_receiver.setdefault(inflow.receiver, []).append(inflow)
        for labels in self.conditions.matching(condition="concentration"):
            if labels.get("receiver") not in by_receiver:
                self.conditions.release(labels, out, block=at)
        for receiver, inflows in by_receiver.items():
            labels = {"contract": self.config.token, "condition": "concentration", "receiver": receiver}
            total = sum(i.value for i in inflows)
            senders = sorted({i.sender for i in inflows})
            if total < t.min_amount or len(senders) < t.min_senders:
                self.conditions.release(labels, out, block=at)
                continue
            latest = inflows[-1]
            summary = (
                f"{len(senders)} senders moved {total / 1e18:,.2f} {self.config.token} into unknown address "
                f"{receiver} within {t.window}"
            )
            evidence: dict[str, object] = {
                "receiver": receiver,
                "senders": senders,
                "total": str(total),
                "threshold": str(t.min_amount),
                "transfers": len(inflows),
                "first_block": inflows[0].block,
            }
            finding = block_finding(
                self.config,
                network=self.network,
                severity=self.config.severity,
                summary=summary,
                labels=labels,
                block=BlockRef(latest.block, latest.block_hash),
                evidence=evidence,
                tx_hashes=tuple(i.tx_hash for i in inflows[-MAX_TXS:]),
            )
            self.conditions.hold(finding, out)

    async def on_reorg(self, reorg: Reorg, session: AsyncSession) -> MonitorOutput:
        while self.window and self.window[-1].block > reorg.common_ancestor:
            self.window.pop()
        self.conditions.forget_after(reorg.common_ancestor)
        return MonitorOutput()
