"""Build the running platform from settings, config-as-code and the deployment manifest.

The wiring lives in one function, :func:`assemble`, so the order of the pipeline is visible in one
place: RPC pool → follower → monitors → alert pipeline → alert store (one DB transaction per batch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from fictra.chain.follower import Follower
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import Clock
from fictra.config.fields import resolve_secret
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.errors import ChainError, ConfigError
from fictra.metrics import Metrics, new_registry
from fictra.monitors.access import AccessAttemptsMonitor
from fictra.monitors.base import Monitor, PolledMonitor
from fictra.monitors.pipeline import AlertPipeline
from fictra.platform.config_set import ConfigSet, load_config_set
from fictra.platform.supervisor import Supervisor
from fictra.series.recorder import SeriesRecorder
from fictra.settings import Settings


@dataclass
class Platform:
    settings: Settings
    config: ConfigSet
    manifest: Manifest
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    metrics: Metrics
    pool: RpcPool
    pipeline: AlertPipeline
    follower: Follower
    block_monitors: list[Monitor]
    polled_monitors: list[PolledMonitor]
    clock: Clock
    supervisor: Supervisor
    notes: list[str] = field(default_factory=list)

    @property
    def network(self) -> str:
        return self.config.network.name

    async def aclose(self) -> None:
        await self.pool.aclose()
        await self.engine.dispose()


def manifest_path(settings: Settings, config: ConfigSet, *, devnet: bool) -> Path:
    """The devnet's own manifest when running the devnet; else the one network.yaml names."""
    if devnet or not config.network.manifest:
        return settings.devnet_dir / "manifest.json"
    path = Path(config.network.manifest)
    return path if path.is_absolute() else config.config_dir / path


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
) -> Platform:
    """Check config against the manifest, migrate the DB, connect to the chain and wire the pipeline.

    On first start (no checkpoint yet) the follower begins at ``start_block``, by default the block
    after the current head: like every production monitor, it watches from now on rather than
    replaying history (a replay of the deployment would raise its role grants and proxy upgrades as
    alerts). Later starts resume from the checkpoint.

    Raises ConfigError (every config problem at once), ChainError (no usable endpoint) or
    StorageError before anything runs; nothing is written to the chain, and the DB only migrated.
    """
    from fictra.monitors.registry import build_monitors

    config = load_config_set(settings.config_dir, manifest=manifest) if config is None else config
    metrics = metrics or new_registry()
    timeouts = [ep.timeout.total_seconds() for ep in config.network.endpoints]
    pool = RpcPool(
        network=config.network.name,
        urls=urls if urls is not None else endpoint_urls(config),
        clock=clock,
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
    except BaseException:
        await pool.aclose()
        if engine is not None:
            await engine.dispose()
        raise
    sessions = session_factory(engine)
    pipeline = AlertPipeline(monitors=block_monitors, clock=clock, policy=config.policy)
    follower = Follower(
        network=config.network.name,
        pool=pool,
        sessions=sessions,
        on_batch=pipeline.on_batch,
        on_reorg=pipeline.on_reorg,
        clock=clock,
        start_block=start_block if start_block is not None else pool.best_head + 1,
        metrics=metrics,
        batch_size=batch_size,
    )
    return Platform(
        settings=settings,
        config=config,
        manifest=manifest,
        engine=engine,
        sessions=sessions,
        metrics=metrics,
        pool=pool,
        pipeline=pipeline,
        follower=follower,
        block_monitors=block_monitors,
        polled_monitors=polled_monitors,
        clock=clock,
        supervisor=Supervisor(clock=clock),
        notes=list(config.notes),
    )
