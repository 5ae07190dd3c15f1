"""The domains of a running platform, built from their config sections and the core (pool, sessions,
clock, metrics) — the only place that knows how the domains are tied together. Where one domain calls
another (incidents ← emergency events, emergency → the incident of an alert), a callable is passed in
here; the domains never import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fictra.audit.signing import AuditSigner, load_signer
from fictra.backup import read_manifest, verify_backup
from fictra.backup.create import list_backups
from fictra.backup.manifest import manifest_path, sha256_of
from fictra.backup.verify import VerifyResult
from fictra.chain.manifest import Manifest
from fictra.chain.sender import TxSender
from fictra.changes.context import ChangesContext
from fictra.compliance.context import ComplianceContext
from fictra.emergency.config import EmergencyConfig, expand_path
from fictra.emergency.controls import PoolControls
from fictra.emergency.flows import PolicyStage
from fictra.emergency.ledger import ActionsLedger
from fictra.emergency.runner import ActionRunner
from fictra.incidents.flows import IncidentsContext
from fictra.incidents.queries import incident_for_alert
from fictra.maintenance.holding import load_muter
from fictra.maintenance.jobs import MaintenanceContext
from fictra.notify.metrics import OutboxMetrics
from fictra.notify.worker import Outbox
from fictra.platform.changes import changes_context
from fictra.platform.proposals import proposals_context
from fictra.procedures.backup_tools import BackupTools
from fictra.proposals.context import ProposalsContext
from fictra.response.context import ResponseContext
from fictra.response.sla import SlaMetrics
from fictra.settings import Settings
from fictra.support.jobs import SupportContext

if TYPE_CHECKING:
    from fictra.platform.assemble import Core


@dataclass(frozen=True)
class Parts:
    """Which domains :func:`~fictra.platform.assemble.assemble` builds. ``fictra up`` builds every one;
    tests and benchmarks build what they exercise (the emergency runner needs its keystores, the audit
    checkpoints their signing key)."""

    response: bool = True
    incidents: bool = True
    emergency: bool = True
    notify: bool = True
    audit: bool = True
    procedures: bool = True
    backup: bool = True
    support: bool = True
    maintenance: bool = True  # needs response (windows hold its notifications)
    changes: bool = True
    compliance: bool = True  # screening at the head (block monitor), KYC checks (polled monitor)
    proposals: bool = True  # governance proposals: the Governor's block monitor, reviews, fork simulations

    @classmethod
    def core_only(cls) -> Parts:
        return cls(
            response=False,
            incidents=False,
            emergency=False,
            notify=False,
            audit=False,
            procedures=False,
            backup=False,
            support=False,
            maintenance=False,
            changes=False,
            proposals=False,
            compliance=False,
        )


@dataclass
class Domains:
    """The built domains (``None`` where :class:`Parts` left one out)."""

    response: ResponseContext | None = None
    incidents: IncidentsContext | None = None
    emergency: ActionRunner | None = None
    policies: PolicyStage | None = None
    outbox: Outbox | None = None
    support: SupportContext | None = None
    maintenance: MaintenanceContext | None = None
    changes: ChangesContext | None = None
    proposals: ProposalsContext | None = None
    compliance: ComplianceContext | None = None
    audit_signer: AuditSigner | None = None
    sender: TxSender | None = None
    notes: list[str] = field(default_factory=list)


async def build_domains(core: Core, *, parts: Parts, link_base: str) -> Domains:
    """Build every domain ``parts`` asks for. Opens the keys now (the audit signing key, the emergency
    keystores), so a wrong passphrase stops the start-up with one line instead of surprising the first
    checkpoint or the first pause. Raises ConfigError; writes nothing."""
    config, clock = core.config, core.clock
    domains = Domains(sender=TxSender(pool=core.pool, clock=clock))
    if parts.audit:
        domains.audit_signer = load_signer(core.settings.data_dir)
    if parts.response:
        domains.response = ResponseContext(
            config=config.response,
            clock=clock,
            alert_policy=config.policy,
            metrics=SlaMetrics.register(core.metrics.registry),
            link_base=link_base,
            hold=load_muter if parts.maintenance else None,  # maintenance windows hold alerts in scope
        )
        if parts.maintenance:
            domains.maintenance = MaintenanceContext(
                config=config.maintenance, clock=clock, response=domains.response, console_url=link_base
            )
    if parts.incidents:
        domains.incidents = IncidentsContext(
            config=config.incidents,
            clock=clock,
            console_url=link_base,
            pool=core.pool,
            manifest=core.manifest,
            actions=ActionsLedger(),
        )
    if parts.emergency:
        runner = ActionRunner(
            sessions=core.sessions,
            pool=core.pool,
            manifest=core.manifest,
            clock=clock,
            config=config.emergency,
            data_dir=core.settings.data_dir,
            controls=PoolControls(
                pool=core.pool,
                endpoint_names=[ep.name for ep in config.network.endpoints],
                manifest=core.manifest,
                supervisor=core.supervisor,
            ),
            registry=core.metrics.registry,
            on_event=domains.incidents.on_action_event if domains.incidents is not None else None,
            sender=domains.sender,
        )
        await runner.check_signers()  # the emergency keys open now, not in the middle of an emergency
        domains.emergency = runner
        domains.policies = PolicyStage(
            config=config.emergency,
            clock=clock,
            wake=runner.wake,
            on_event=runner.on_event,
            incident_for_alert=incident_for_alert if domains.incidents is not None else None,
        )
    if parts.changes:
        domains.changes = changes_context(config=config, clock=clock, pool=core.pool, manifest=core.manifest)
    if parts.compliance:
        domains.compliance = ComplianceContext.build(
            config=config.compliance, clock=clock, manifest=core.manifest, base_dir=config.config_dir
        )
    if parts.proposals:
        domains.proposals = proposals_context(
            manifest=core.manifest, clock=clock, pool=core.pool, fork_url=core.pool.endpoints[0].client.url
        )
    if parts.support:
        domains.support = SupportContext(config=config.support, clock=clock)
    if parts.notify:
        domains.outbox = Outbox(
            sessions=core.sessions,
            config=config.receivers,
            clock=clock,
            base_dir=config.config_dir,
            metrics=OutboxMetrics(core.metrics.registry),
        )
    return domains


def backup_tools(settings: Settings) -> BackupTools:
    """What the procedures' backup checks (backup_fresh, restore_drill) use of the backup domain: the
    data dir's backups, their manifests, and a verification into a scratch database."""
    data_dir, database_url = settings.data_dir, settings.resolved_database_url()

    async def verify(path: Path) -> VerifyResult:
        return await verify_backup(backup=path, data_dir=data_dir, database_url=database_url)

    return BackupTools(
        directory=data_dir / "backups",
        list_backups=list_backups,
        manifest_of=lambda p: read_manifest(manifest_path(p)),
        sha256_of=sha256_of,
        verify=verify,
    )


def signer_paths(
    config: EmergencyConfig, *, data_dir: Path, manifest: Manifest
) -> list[tuple[str, Path, str | None]]:
    """(signer name, keystore path, expected address) of every emergency signer, for the procedures'
    keystore inventory (the monthly comprehensive audit)."""
    out: list[tuple[str, Path, str | None]] = []
    for name, signer in sorted(config.signers.items()):
        path = expand_path(signer.keystore, config_dir=config.config_dir, data_dir=data_dir)
        expected = signer.address
        if expected is None and signer.role is not None:
            holders = manifest.roles.get(signer.role) or []
            expected = holders[0] if holders else None
        out.append((name, path, expected))
    return out
