"""``fictra up`` (the main job) and ``fictra status``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live

from fictra.cli._common import console, settings
from fictra.clock import SystemClock
from fictra.errors import FictraError


def _setup_logging(data_dir: Path) -> Path:
    """Platform logs go to a file (the terminal shows the live view); never secrets."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "fictra.log"
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore", "web3", "urllib3", "websockets", "uvicorn.error", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return path


def up(
    devnet: Annotated[
        bool, typer.Option("--devnet/--no-devnet", help="Start the local devnet when it is not running.")
    ] = True,
    simulate: Annotated[
        bool, typer.Option("--simulate/--no-simulate", help="Run simulated activity on the devnet.")
    ] = True,
    rate: Annotated[float, typer.Option(help="Simulated transactions per second.")] = 3.0,
    seed: Annotated[int, typer.Option(help="Seed of the simulated activity.")] = 1,
    duration: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: until Ctrl-C).")
    ] = None,
    http: Annotated[bool, typer.Option("--http/--no-http", help="Serve /metrics and the API.")] = True,
    view: Annotated[
        bool | None, typer.Option("--view/--no-view", help="Live terminal view (default: on a terminal).")
    ] = None,
) -> None:
    """Run FICTRA Ops: follow the chain, run every monitor, keep the alerts, serve /metrics.

    By default the network in config/network.yaml is the local devnet: it is started (with the whole
    FICTRA system deployed and simulated activity) unless already running.

    Examples:
      fictra up                           # devnet + simulator + monitoring, until Ctrl-C
      fictra up --no-simulate --duration 60
      FICTRA_CONFIG_DIR=prod/ fictra up --no-devnet
    """
    s = settings()
    live = sys.stdout.isatty() if view is None else view
    asyncio.run(
        _up(
            s,
            devnet=devnet,
            simulate=simulate,
            rate=rate,
            seed=seed,
            duration=duration,
            http=http,
            live=live,
        )
    )


async def _up(
    s: Any,
    *,
    devnet: bool,
    simulate: bool,
    rate: float,
    seed: int,
    duration: float | None,
    http: bool,
    live: bool,
) -> None:
    from fictra.api.app import create_app, serve
    from fictra.api.context import AppContext
    from fictra.auth.bootstrap import ensure_admin
    from fictra.chain.manifest import Manifest
    from fictra.metrics import new_registry
    from fictra.platform.assemble import Parts, assemble, endpoint_urls, manifest_path
    from fictra.platform.config_set import load_config_set
    from fictra.platform.devnet import ensure_devnet, simulator_task
    from fictra.platform.run import AlertSummary, run
    from fictra.platform.status import status_source
    from fictra.platform.view import ViewState, one_line, render

    clock = SystemClock()
    # every config file read once: syntax/schema now, references checked again below with the manifest
    config = load_config_set(s.config_dir)
    urls = endpoint_urls(config)
    state = ViewState()
    stop = asyncio.Event()
    extra: list[Any] = []
    handle = None
    if devnet and config.network.name == "devnet":
        handle = await ensure_devnet(
            settings=s, endpoint_url=urls[0], progress=lambda m: console.print(f"[dim]devnet:[/] {m}")
        )
        manifest = handle.manifest
        verb = "started" if handle.started_here else "reused"
        state.where.append(("Devnet", f"{handle.rpc_url} (Anvil, {verb}; stop: fictra devnet down)"))
        if simulate:

            def on_stats(stats: Any) -> None:
                state.simulator = stats.summary()  # says STALLED when nothing completes

            extra.append(("simulator", simulator_task(handle, rate=rate, seed=seed, on_stats=on_stats)))
    else:
        manifest = Manifest.load(manifest_path(s, config, devnet=False))
    metrics = new_registry()
    try:
        # everything fictra up runs, every domain, checked before anything runs (keys opened too)
        platform = await assemble(
            settings=s,
            clock=clock,
            manifest=manifest,
            config=config.checked(manifest),  # contract/event names: no file read again
            urls=urls,
            metrics=metrics,
            parts=Parts(),
        )
    except BaseException:
        if handle is not None and handle.started_here:  # leave nothing half-started
            from fictra.devnet import runtime

            runtime.down(paths=handle.paths)
            console.print("[dim]devnet:[/] stopped again (start-up failed)")
        raise
    config = platform.config
    admin_password = await ensure_admin(
        platform.sessions, clock=clock, config_dir=s.config_dir, role_map=config.roles
    )
    if admin_password is not None:  # first start: shown on the terminal once, never logged
        console.print(f"First start: user 'admin', one-time password: {admin_password}", soft_wrap=True)
    log_path = _setup_logging(s.data_dir)  # only now: a start-up that fails writes nothing
    state.where += [
        (
            "Network",
            f"{config.network.name} (chain {config.network.chain_id}), "
            f"{len(config.network.endpoints)} endpoint(s)",
        ),
        ("Monitors", f"{len(config.monitors)} monitors, {len(config.rules)} CEL rules ({s.config_dir}/)"),
        ("Database", s.resolved_database_url() if s.database_url is None else "FICTRA_DATABASE_URL"),
        ("Manifest", str(manifest_path(s, config, devnet=handle is not None))),
        ("Logs", str(log_path)),
    ]
    status = status_source(platform, firing=lambda: state.alerts.firing)
    if http:
        context = AppContext(
            settings=s,
            sessions=platform.sessions,
            metrics=metrics,
            clock=clock,
            status=status,
            config=config,
            platform=platform,
        )
        app = create_app(context=context)
        extra.append(("http", lambda st: serve(app, host=s.http_host, port=s.http_port, stop=st)))
        base = f"http://{s.http_host}:{s.http_port}"
        state.where.append(("HTTP", f"{base}/ (console)  {base}/api/docs (API)  {base}/metrics"))
    if duration is not None:

        async def stopper(st: asyncio.Event) -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(st.wait(), timeout=duration)
            st.set()

        extra.append(("duration", stopper))

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    def on_summary(summary: AlertSummary) -> None:
        state.alerts = summary

    last = (time.monotonic(), 0)

    def tick() -> None:
        nonlocal last
        state.follower = platform.follower.status()
        now, done = time.monotonic(), state.follower.counters.get("blocks", 0)
        if now - last[0] >= 1.0:
            state.blocks_per_s = (done - last[1]) / (now - last[0])
            last = (now, done)

    async def refresher(st: asyncio.Event) -> None:
        if live:
            with Live(render(state), console=console, refresh_per_second=4, transient=False) as view:
                while not st.is_set():
                    tick()
                    view.update(render(state))
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(st.wait(), timeout=0.5)
        else:
            for what, where in state.where:
                console.print(f"{what:>9}: {where}")
            while not st.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(st.wait(), timeout=10)
                tick()
                console.print(one_line(state))

    extra.append(("view", refresher))
    try:
        await run(platform, stop=stop, extra=extra, on_summary=on_summary)
    except* FictraError as group:
        raise group.exceptions[0] from None
    finally:
        await platform.aclose()
    tick()
    console.print(f"Stopped. {one_line(state)}")


def status() -> None:
    """Show the follower's checkpoint and the firing alerts from the database, and the devnet."""
    s = settings()
    asyncio.run(_status(s))


async def _status(s: Any) -> None:
    from sqlalchemy import select

    from fictra.chain.models import ChainCheckpoint
    from fictra.db.engine import make_engine, migrate, session_factory
    from fictra.devnet import runtime
    from fictra.devnet.state import DevnetPaths
    from fictra.platform.run import summarize_alerts

    migrate(s.resolved_database_url())
    engine = make_engine(s.resolved_database_url())
    try:
        dev = await runtime.status(paths=DevnetPaths(s.devnet_dir))
        if dev.running and dev.state is not None:
            console.print(f"Devnet: running at {dev.state.rpc_url}, head {dev.head_block}")
        else:
            console.print("Devnet: not running")
        sessions = session_factory(engine)
        async with sessions() as session:
            rows = (await session.execute(select(ChainCheckpoint))).scalars().all()
        for row in rows:
            lag = f", {dev.head_block - row.block_number} behind the devnet head" if dev.head_block else ""
            console.print(f"Follower ({row.network}): last processed block {row.block_number}{lag}")
        if not rows:
            console.print("Follower: no checkpoint yet (run `fictra up`)")
        summary = await summarize_alerts(sessions)
        sev = "  ".join(f"{k} {summary.firing.get(k, 0)}" for k in ("P0", "P1", "P2", "P3"))
        console.print(f"Firing alerts: {sev}")
    finally:
        await engine.dispose()
