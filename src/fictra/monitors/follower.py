"""Follower stall (polled): the chain follower made no checkpoint progress for its ``stall_after``
seconds while the head moved on — a wedged catch-up, a consumer that hangs, a database that does not
answer. Raised at P1 with the follower's last block, the head then and now and its last error; cleared
once the checkpoint moves again. Block monitors cannot see this (they run only when blocks are
processed), so it is polled on the scheduler.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Finding, Severity
from fictra.chain.follower import Stall
from fictra.monitors.base import MonitorOutput
from fictra.monitors.state import Conditions

LABELS = {"condition": "follower_stalled"}


class FollowerStallMonitor:
    def __init__(
        self,
        *,
        stall: Callable[[], Stall | None],
        network: str,
        name: str = "follower-stall",
        interval: timedelta = timedelta(seconds=10),
        severity: Severity = Severity.P1,
    ) -> None:
        self.name = name
        self.interval = interval
        self.network = network
        self.severity = severity
        self._stall = stall
        self._conditions = Conditions(monitor=name, network=network)

    async def poll(self, session: AsyncSession) -> MonitorOutput:
        out = MonitorOutput()
        await self._conditions.resume(session)
        stall = self._stall()
        if stall is None:
            self._conditions.release(dict(LABELS), out)
            return out
        at = "before its first block" if stall.last_block is None else f"at block {stall.last_block}"
        summary = (
            f"Follower of '{stall.network}' made no progress for {stall.seconds:.0f}s, stuck {at} "
            f"while the head moved from {stall.head_then} to {stall.head}"
        )
        evidence: dict[str, object] = {
            "condition": "follower_stalled",
            "observed_s": round(stall.seconds, 1),
            "last_block": stall.last_block,
            "head_then": stall.head_then,
            "head": stall.head,
            "last_error": stall.last_error,
        }
        finding = Finding(
            monitor=self.name,
            severity=self.severity,
            summary=summary,
            labels=dict(LABELS),
            network=self.network,
            evidence=evidence,
        )
        self._conditions.hold(finding, out)
        return out
