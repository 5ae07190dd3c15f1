"""Inputs for the procedures' checks built directly (a static chain view) and the real alert store as
the ingest function."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Finding
from fictra.alerting.service import apply_findings
from fictra.auth.actor import Actor
from fictra.chain.follower import FollowerStatus
from fictra.chain.pool import EndpointHealth, EndpointState
from fictra.clock import FakeClock
from fictra.platform.config_set import load_config_set
from fictra.procedures.chainview import FeedReading, Head
from fictra.procedures.config import ProceduresConfig

CONFIG = Path(__file__).resolve().parents[2] / "config"


def shipped() -> ProceduresConfig:
    return load_config_set(CONFIG).procedures


@dataclass
class StaticChain:
    """A :class:`~fictra.procedures.chainview.ChainView` whose answers follow the fake clock."""

    clock: FakeClock
    states: list[EndpointState] = field(default_factory=lambda: [EndpointState.HEALTHY])
    paused_: dict[str, bool] = field(default_factory=lambda: {"PaymentToken": False, "Reserve": False})
    feed_age: float = 60.0
    head_age: float = 2.0

    def endpoints(self) -> list[EndpointHealth]:
        return [EndpointHealth("devnet", f"http://rpc{i}", f"rpc{i}", s) for i, s in enumerate(self.states)]

    async def head(self) -> Head:
        return Head(100, int(self.clock.now().timestamp() - self.head_age))

    async def paused(self) -> dict[str, bool]:
        return dict(self.paused_)

    async def feeds(self) -> list[FeedReading]:
        t = int(self.clock.now().timestamp() - self.head_age - self.feed_age)
        return [FeedReading("Feed:BRENT", t, 3600.0), FeedReading("Feed:GOLD", t, 3600.0)]


def follower(lag: int = 1) -> FollowerStatus:
    return FollowerStatus(network="devnet", last_block=100 - lag, last_hash="0x1", head=100, lag=lag)


class AlertIngest:
    """The alert store's apply_findings as the ingest function (what the pipeline's ingest does)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.findings: list[Finding] = []

    async def __call__(self, session: AsyncSession, findings: Sequence[Finding]) -> object:
        self.findings.extend(findings)
        return await apply_findings(session, list(findings), head=None, clock=self.clock)


def person(name: str, *roles: str) -> Actor:
    return Actor(None, name, roles, frozenset({"procedures.read", "procedures.signoff"}), "session")
