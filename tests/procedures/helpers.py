"""Inputs for the procedures' checks built directly (a static chain view) and the real alert store as
the ingest function."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.findings import Finding
from fictra.alerting.service import apply_findings
from fictra.auth.actor import Actor
from fictra.chain.follower import FollowerStatus
from fictra.chain.manifest import ContractEntry, Manifest
from fictra.chain.pool import EndpointHealth, EndpointState
from fictra.clock import FakeClock
from fictra.platform.config_set import load_config_set
from fictra.procedures.backup_tools import BackupTools, BackupVerification
from fictra.procedures.chainview import FeedReading, Head
from fictra.procedures.config import AutomatedStep, ProceduresConfig
from fictra.procedures.roles import RoleHolders, expected_holders

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


ARTIFACTS = {
    "Timelock": "FictraTimelock",
    "Governor": "FictraGovernor",
    "EmergencyController": "EmergencyController",
    "Feed:BRENT": "CommodityFeed",
    "FoundationToken": "FoundationToken",
    "PaymentToken": "PaymentToken",
    "Reserve": "Reserve",
}
MANIFEST_ROLES = ["guardian", "issuer", "transfer_agent", "fee_manager", "reserve_manager", "proposer"]


def static_manifest() -> Manifest:
    """A manifest with the devnet's AccessControl contracts and named accounts at made-up addresses."""
    contracts = {
        n: ContractEntry(address=f"0x{i + 1:040x}", artifact=a) for i, (n, a) in enumerate(ARTIFACTS.items())
    }
    roles = {r: [f"0x{0xA0 + i:040x}"] for i, r in enumerate(MANIFEST_ROLES)}
    roles["oracle_nodes"] = [f"0x{0xB0 + i:040x}" for i in range(3)]
    return Manifest(chain_id=31337, rpc_url="http://127.0.0.1:8545", contracts=contracts, roles=roles)


@dataclass
class StaticRolesChain(StaticChain):
    """A :class:`StaticChain` that also reads role holders: exactly the shipped ``access_control``
    step's expected holders (plus ``extra``), over :func:`static_manifest`."""

    manifest: Manifest = field(default_factory=static_manifest)
    extra: RoleHolders = field(default_factory=dict)

    async def role_holders(self) -> RoleHolders:
        step = next(
            s
            for p in shipped().procedures
            for s in p.steps
            if isinstance(s, AutomatedStep) and s.check == "access_control"
        )
        held = expected_holders(step.params["expected_roles"], manifest=self.manifest)
        for contract, roles in self.extra.items():
            for role, accounts in roles.items():
                held.setdefault(contract, {}).setdefault(role, []).extend(accounts)
        return held


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


@dataclass(frozen=True)
class _Manifest:
    sha256: str
    created_at: str


def fresh_backups(clock: FakeClock) -> BackupTools:
    """Backup functions seeing one backup made an hour before now, its sha256 as in its manifest (the
    checks on real backups: test_backup_checks.py)."""

    async def verify(path: Path) -> BackupVerification:
        raise AssertionError("the restore drill is weekly")

    return BackupTools(
        directory=Path("backups"),
        list_backups=lambda d: [d / "fictra-1.sqlite"],
        manifest_of=lambda p: _Manifest("ab" * 32, (clock.now() - timedelta(hours=1)).isoformat()),
        sha256_of=lambda p: "ab" * 32,
        verify=verify,
    )
