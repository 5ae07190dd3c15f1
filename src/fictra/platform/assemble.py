"""Build everything ``fictra up`` runs from settings, the config set and the deployment manifest.

:func:`assemble` is the one place where the platform is wired, in this order:

    RPC pool → follower → block monitors → alert pipeline → alert store        (one DB transaction per batch)
                                                         └► stages (platform.stages.build_stages)
    domains (platform.domains.build_domains): response, incidents, emergency, outbox, audit signer,
    routine procedures
    jobs (platform.jobs.platform_jobs) on one scheduler: polled monitors, response tick, incidents,
    outbox, audit checkpoints, procedures and their graces, the daily backup

Start-up checks everything (config against the manifest, endpoints, keys) before anything runs, and
closes what it opened when it fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fictra.alerting.findings import Finding
from fictra.audit.signing import AuditSigner
from fictra.chain.follower import Follower
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.sender import TxSender
from fictra.changes.context import ChangesContext
from fictra.clock import Clock
from fictra.compliance.context import ComplianceContext
from fictra.config.fields import resolve_secret
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.emergency.flows import PolicyStage
from fictra.emergency.runner import ActionRunner
from fictra.errors import ChainError, ConfigError
from fictra.incidents.flows import IncidentsContext
from fictra.jobs import JobMetrics, Scheduler
from fictra.maintenance.jobs import MaintenanceContext
from fictra.metrics import Metrics, new_registry
from fictra.monitors.access import AccessAttemptsMonitor
from fictra.monitors.base import Monitor, MonitorOutput, PolledMonitor
from fictra.monitors.follower import FollowerStallMonitor
from fictra.monitors.pipeline import AlertPipeline
from fictra.notify.worker import Outbox
from fictra.platform.agenda import agenda_sources
from fictra.platform.config_set import ConfigSet, load_config_set
from fictra.platform.domains import Parts, backup_tools, build_domains, signer_paths
from fictra.platform.economics import market_monitor
from fictra.platform.jobs import Timings, platform_jobs
from fictra.platform.proposals import proposals_monitor
from fictra.platform.reserve import build_reserve
from fictra.platform.stages import Stage, build_stages, chain
from fictra.platform.supervisor import Supervisor
from fictra.platform.tokens import allocation_monitor
from fictra.procedures.chainview import PoolChainView
from fictra.procedures.jobs import ProceduresContext
from fictra.proposals.context import ProposalsContext
from fictra.reserve.context import ReserveContext
from fictra.response.context import ResponseContext
from fictra.series.recorder import SeriesRecorder
from fictra.settings import Settings
from fictra.support.jobs import SupportContext

__all__ = ["Core", "Parts", "Platform", "Timings", "assemble", "endpoint_urls", "manifest_path"]


@dataclass
class Core:
    """What every domain is built on."""

    settings: Settings
    config: ConfigSet
    manifest: Manifest
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    metrics: Metrics
    pool: RpcPool
    clock: Clock
    supervisor: Supervisor


@dataclass
class Platform(Core):
    """The assembled platform: the core, the detection pipeline, every domain (``None`` when left out
    by :class:`Parts`), the stage list after the alert store and the job scheduler."""

    pipeline: AlertPipeline = field(kw_only=True)
    follower: Follower = field(kw_only=True)
    block_monitors: list[Monitor] = field(kw_only=True)
    polled_monitors: list[PolledMonitor] = field(kw_only=True)
    scheduler: Scheduler = field(kw_only=True)
    stages: list[Stage] = field(kw_only=True)
    sender: TxSender | None = field(default=None, kw_only=True)
    response: ResponseContext | None = field(default=None, kw_only=True)
    incidents: IncidentsContext | None = field(default=None, kw_only=True)
    emergency: ActionRunner | None = field(default=None, kw_only=True)
    policies: PolicyStage | None = field(default=None, kw_only=True)
    outbox: Outbox | None = field(default=None, kw_only=True)
    procedures: ProceduresContext | None = field(default=None, kw_only=True)
    support: SupportContext | None = field(default=None, kw_only=True)
    maintenance: MaintenanceContext | None = field(default=None, kw_only=True)
    changes: ChangesContext | None = field(default=None, kw_only=True)
    proposals: ProposalsContext | None = field(default=None, kw_only=True)
    compliance: ComplianceContext | None = field(default=None, kw_only=True)
    reserve: ReserveContext | None = field(default=None, kw_only=True)
    backups: bool = field(default=False, kw_only=True)
    audit_signer: AuditSigner | None = field(default=None, kw_only=True)
    link_base: str = field(default="http://127.0.0.1:8000", kw_only=True)
    notes: list[str] = field(default_factory=list, kw_only=True)

    @property
    def network(self) -> str:
        return self.config.network.name

    async def aclose(self) -> None:
        if self.outbox is not None:
            await self.outbox.aclose()
        await self.pool.aclose()
        await self.engine.dispose()


def manifest_path(settings: Settings, config: ConfigSet, *, devnet: bool) -> Path:
    """The devnet's own manifest when running the devnet; else the one network.yaml names."""
    if devnet or not config.network.manifest:
        return settings.devnet_dir / "manifest.json"
    path = Path(config.network.manifest)
    return path if path.is_absolute() else config.config_dir / path


def _endpoint_names(config: ConfigSet, urls: list[str] | None) -> list[str] | None:
    names = [ep.name for ep in config.network.endpoints]
    return names if urls is None or len(urls) == len(names) else None


def endpoint_urls(config: ConfigSet) -> list[str]:
    """Resolve the endpoints' secret references (late, only here)."""
    return [
        resolve_secret(
            ep.url, base_dir=config.config_dir, where=f"network.yaml:endpoints.{i}.url"
        ).get_secret_value()
        for i, ep in enumerate(config.network.endpoints)
    ]


async def assemble(
    *,
    settings: Settings,
    clock: Clock,
    manifest: Manifest,
    config: ConfigSet | None = None,
    urls: list[str] | None = None,
    metrics: Metrics | None = None,
    batch_size: int = 50,
    start_block: int | None = None,
    parts: Parts | None = None,
    timings: Timings | None = None,
    link_base: str | None = None,
) -> Platform:
    """Check config against the manifest, migrate the DB, connect to the chain, build the domains and
    wire the pipeline, its stages and the jobs. ``parts`` defaults to the detection core only (what most
    tests need); ``fictra up`` passes ``Parts()`` — every domain.

    On first start (no checkpoint yet) the follower begins at ``start_block``, by default the block
    after the current head: like every production monitor, it watches from now on rather than
    replaying history (a replay of the deployment would raise its role grants and proxy upgrades as
    alerts). Later starts resume from the checkpoint.

    Raises ConfigError (every config problem at once; a wrong key passphrase), ChainError (no usable
    endpoint) or StorageError before anything runs; nothing is written to the chain, and the DB only
    migrated.
    """
    from fictra.monitors.registry import build_monitors

    config = load_config_set(settings.config_dir, manifest=manifest) if config is None else config
    parts = parts if parts is not None else Parts.core_only()
    metrics = metrics or new_registry()
    link_base = link_base or f"http://{settings.http_host}:{settings.http_port}"
    timeouts = [ep.timeout.total_seconds() for ep in config.network.endpoints]
    pool = RpcPool(
        network=config.network.name,
        urls=urls if urls is not None else endpoint_urls(config),
        clock=clock,
        names=_endpoint_names(config, urls),  # metric labels: names from network.yaml, not URLs
        chain_id=config.network.chain_id,
        timeout=max(timeouts) if timeouts else 10.0,
        metrics=metrics,
    )
    engine: AsyncEngine | None = None
    try:
        try:
            await pool.start()  # before anything is written: an unusable chain changes nothing
        except ChainError as exc:
            raise ConfigError(
                f"{config.config_dir / 'network.yaml'}: endpoints: {exc.user_message} "
                "Check the URLs in network.yaml and that the nodes are running."
            ) from None
        block_monitors, polled_monitors = build_monitors(
            monitors=[*config.monitors, *config.rules],
            manifest=manifest,
            pool=pool,
            clock=clock,
            endpoint_names=[ep.name for ep in config.network.endpoints],
        )
        block_monitors.append(SeriesRecorder.from_manifest(manifest))  # chart series, no findings
        polled_monitors.append(AccessAttemptsMonitor(clock=clock, network=config.network.name))
        db_url = settings.resolved_database_url()
        migrate(db_url)
        engine = make_engine(db_url)
        core = Core(
            settings=settings,
            config=config,
            manifest=manifest,
            engine=engine,
            sessions=session_factory(engine),
            metrics=metrics,
            pool=pool,
            clock=clock,
            supervisor=Supervisor(clock=clock),
        )
        domains = await build_domains(core, parts=parts, link_base=link_base)
        reserve = await build_reserve(  # the proof-of-reserve monitor; its publisher signs with the keys
            config.reserve,
            manifest=manifest,
            pool=pool,
            clock=clock,
            network=config.network.name,
            sender=domains.sender if parts.emergency else None,
            config_dir=config.config_dir,
            data_dir=settings.data_dir,
        )
        if reserve is not None and reserve.monitor is not None:
            block_monitors.append(reserve.monitor)
        allocations = allocation_monitor(  # the sovereign registry against FoundationToken, polled
            config.tokens, manifest=manifest, pool=pool, network=config.network.name
        )
        if allocations is not None:
            polled_monitors.append(allocations)
        market = market_monitor(  # the PT pool: peg, volatility, depth at every processed batch
            config.economics, manifest=manifest, pool=pool, network=config.network.name, clock=clock
        )
        if market is not None:
            block_monitors.append(market)
    except BaseException:
        await pool.aclose()
        if engine is not None:
            await engine.dispose()
        raise
    if domains.compliance is not None:  # screening at the head; KYC checks on their interval
        if domains.compliance.screening is not None:
            block_monitors.append(domains.compliance.screening)
        polled_monitors.extend(domains.compliance.polled)  # KYC, filings calendar, regulators' feeds
    if domains.proposals is not None:  # the Governor's proposals, recorded in the checkpoint transaction
        block_monitors.append(proposals_monitor(manifest=manifest, clock=clock, pool=pool))
    stages = build_stages(response=domains.response, incidents=domains.incidents, policies=domains.policies)
    pipeline = AlertPipeline(
        monitors=block_monitors, clock=clock, policy=config.policy, on_changes=chain(stages)
    )
    follower = Follower(
        network=config.network.name,
        pool=pool,
        sessions=core.sessions,
        on_batch=pipeline.on_batch,
        on_reorg=pipeline.on_reorg,
        clock=clock,
        start_block=start_block if start_block is not None else pool.best_head + 1,
        metrics=metrics,
        batch_size=batch_size,
    )
    polled_monitors.append(FollowerStallMonitor(stall=follower.stall, network=config.network.name))
    scheduler = Scheduler(sessions=core.sessions, clock=clock, metrics=JobMetrics(metrics.registry))
    procedures = None
    if parts.procedures:  # routine procedures: their automated checks read the chain and the follower

        async def ingest(session: AsyncSession, findings: Sequence[Finding]) -> object:
            output = MonitorOutput(findings=list(findings))
            return await pipeline.ingest(session, output, network=config.network.name, head=None)

        procedures = ProceduresContext(
            config=config.procedures,
            clock=clock,
            network=config.network.name,
            chain=PoolChainView(pool=pool, manifest=manifest),
            follower_status=follower.status,
            ingest=ingest,
            backups=backup_tools(settings),
            agenda=agenda_sources(),
            data_dir=settings.data_dir,
            config_dir=config.config_dir,
            signer_paths=lambda: signer_paths(
                config.emergency, data_dir=settings.data_dir, manifest=manifest
            ),
        )
    platform = Platform(
        **vars(core),
        pipeline=pipeline,
        follower=follower,
        block_monitors=block_monitors,
        polled_monitors=polled_monitors,
        scheduler=scheduler,
        stages=stages,
        sender=domains.sender,
        response=domains.response,
        incidents=domains.incidents,
        emergency=domains.emergency,
        policies=domains.policies,
        outbox=domains.outbox,
        procedures=procedures,
        support=domains.support,
        maintenance=domains.maintenance,
        changes=domains.changes,
        proposals=domains.proposals,
        compliance=domains.compliance,
        reserve=reserve,
        backups=parts.backup,
        audit_signer=domains.audit_signer,
        link_base=link_base,
        notes=list(config.notes),
    )
    for job in platform_jobs(platform, timings=timings or Timings()):
        scheduler.register(job)
    return platform
