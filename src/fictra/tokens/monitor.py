"""The sovereign-allocation reconciliation as a polled monitor: every ``reconcile.interval`` the registry
is compared with FoundationToken (holder and cap of each allocation, the holder's delegate); each difference
is a condition (``allocation_mismatch`` P1, ``votes_not_delegated`` P2 by default, label ``sovereign``)
that clears once the chain and the registry agree again."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Finding
from fictra.chain.pool import RpcPool
from fictra.monitors.base import MonitorOutput
from fictra.monitors.state import Conditions
from fictra.tokens.config import TokensConfig
from fictra.tokens.reads import read_allocations
from fictra.tokens.registry import reconcile

__all__ = ["AllocationMonitor"]

KINDS = ("allocation_mismatch", "votes_not_delegated")


class AllocationMonitor:
    """A :class:`~fictra.monitors.base.PolledMonitor`."""

    def __init__(self, *, config: TokensConfig, pool: RpcPool, token: str, network: str) -> None:
        self.config = config
        self.pool = pool
        self.token = token
        self.network = network
        self.name = config.reconcile.monitor
        self.interval: timedelta = config.reconcile.interval
        self.conditions = Conditions(monitor=self.name, network=network)

    async def poll(self, session: AsyncSession) -> MonitorOutput:
        await self.conditions.resume(session)
        out = MonitorOutput()
        chain = await read_allocations(self.pool, token=self.token, sovereigns=self.config.sovereigns)
        rc = self.config.reconcile
        for s in self.config.sovereigns:
            found = {f.kind: f for f in reconcile(s, chain[s.id])}
            for kind in KINDS:
                labels = {"contract": self.config.token, "sovereign": s.id, "condition": kind}
                problem = found.get(kind)
                if problem is None:
                    self.conditions.release(labels, out)
                    continue
                severity = rc.mismatch_severity if kind == "allocation_mismatch" else rc.delegation_severity
                self.conditions.hold(
                    Finding(
                        monitor=self.name, severity=severity, summary=problem.text, labels=labels,
                        network=self.network, evidence={"sovereign": s.id, "participant": s.participant},
                    ),
                    out,
                )  # fmt: skip
        return out
