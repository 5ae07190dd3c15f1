"""`fictra devnet` commands: thin wrappers over :mod:`fictra.devnet` (runtime, simulate, fill, scenarios)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any, TypeVar

import typer
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from fictra.cli._common import console, settings
from fictra.devnet import runtime
from fictra.devnet.scenarios.base import ScenarioOptions
from fictra.devnet.state import DevnetPaths

T = TypeVar("T")

app = typer.Typer(
    help="Run the local FICTRA devnet: Anvil with the reference contracts deployed.\n\n"
    "Typical session: `fictra devnet up`, then `fictra devnet simulate` (or `up --simulate`), "
    "`fictra devnet scenario oracle-stall`, ... and finally `fictra devnet down`.",
    no_args_is_help=True,
)

KEY_CONTRACTS = (
    "PaymentToken",
    "FoundationToken",
    "Reserve",
    "EmergencyController",
    "Timelock",
    "Pool:PT-CASH",
)


def _paths() -> DevnetPaths:
    return DevnetPaths(settings().devnet_dir)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _note(text: str | None) -> None:
    if text:
        console.print(text, style="yellow", markup=False)


@app.command()
def up(
    port: int = typer.Option(0, "--port", help="RPC port on 127.0.0.1 (0 picks a free one)."),
    block_time: int = typer.Option(
        1,
        "--block-time",
        help="Seconds per block (interval mining, time passes as on a chain); 0 = automine.",
    ),
    deploy: bool = typer.Option(True, "--deploy/--no-deploy", help="Deploy the FICTRA system (default)."),
    simulate: bool = typer.Option(
        False, "--simulate", help="Then run the activity simulator in the foreground until Ctrl-C."
    ),
    rate: float = typer.Option(5.0, "--rate", help="With --simulate: transactions per second."),
    seed: int = typer.Option(1, "--seed", help="With --simulate: random seed (same seed, same activity)."),
    keep_running: bool = typer.Option(
        False, "--keep-running", help="With --simulate: leave the devnet up after Ctrl-C (default: stop it)."
    ),
) -> None:
    """Start Anvil in the background and deploy the whole FICTRA system.

    Examples: `fictra devnet up`; `fictra devnet up --port 8545 --block-time 2`;
    `fictra devnet up --simulate`.
    """
    if simulate:
        from fictra.devnet.simulate import SimConfig

        SimConfig(rate=rate, seed=seed).check()  # bad simulator options fail before anything starts
    paths = _paths()
    result = _run(
        runtime.up(paths=paths, port=port, block_time=block_time, deploy=deploy, progress=_progress)
    )
    for note in result.notes:
        _note(note)
    state = result.state
    table = Table(title="FICTRA devnet", show_header=False, title_justify="left")
    table.add_row("RPC", state.rpc_url)
    table.add_row("chain id", str(state.chain_id))
    table.add_row("Anvil", f"pid {state.pid}, log {paths.log}")
    table.add_row("blocks", f"every {state.block_time}s" if state.block_time else "automine")
    if result.manifest is not None:
        table.add_row("manifest", str(paths.manifest))
        for name in KEY_CONTRACTS:
            if name in result.manifest.contracts:
                table.add_row(name, result.manifest.contracts[name].address)
        feeds = sorted(n.removeprefix("Feed:") for n in result.manifest.contracts if n.startswith("Feed:"))
        table.add_row("feeds", ", ".join(feeds))
    console.print(table)
    if not simulate:
        console.print("Stop it with `fictra devnet down`.")
        return
    try:
        _simulate(paths, rate=rate, duration=None, seed=seed)
    finally:
        if not keep_running:
            runtime.down(paths=paths)
            console.print("Devnet stopped.")


def _progress(message: str) -> None:
    console.print(f"  {message}", style="dim", markup=False)


@app.command()
def down() -> None:
    """Stop the running devnet and remove its state (the Anvil log stays)."""
    state = runtime.down(paths=_paths())
    console.print(f"Stopped the devnet (pid {state.pid}, {state.rpc_url}).")


@app.command()
def status() -> None:
    """Show whether a devnet runs, where, its head block, chain id, manifest and scenarios in force."""
    info = _run(runtime.status(paths=_paths()))
    _note(info.note)
    if not info.running or info.state is None:
        console.print("Devnet: not running. Start one with `fictra devnet up`.")
        return
    table = Table(title="FICTRA devnet: running", show_header=False, title_justify="left")
    table.add_row("RPC", info.state.rpc_url)
    table.add_row("pid", str(info.state.pid))
    table.add_row("started", info.state.started_at)
    table.add_row("blocks", f"every {info.state.block_time}s" if info.state.block_time else "automine")
    if info.answering:
        table.add_row("chain id", str(info.chain_id))
        table.add_row("head block", str(info.head_block))
    else:
        table.add_row("RPC state", "[red]not answering[/] (node-down scenario in force?)")
    table.add_row(
        "manifest", str(info.manifest_path) if info.manifest_path else "none (run `fictra devnet deploy`)"
    )
    table.add_row("scenarios", ", ".join(info.scenarios) or "none")
    console.print(table)


@app.command()
def deploy() -> None:
    """(Re)deploy the FICTRA system onto the running devnet and rewrite the manifest."""
    manifest = _run(runtime.redeploy(paths=_paths(), progress=_progress))
    console.print(f"Deployed {len(manifest.contracts)} contracts; manifest: {_paths().manifest}")


@app.command()
def simulate(
    rate: float = typer.Option(5.0, "--rate", help="Transactions per second (approximate)."),
    duration: float | None = typer.Option(None, "--duration", help="Seconds to run (default: until Ctrl-C)."),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed makes the same choices."),
) -> None:
    """Run realistic background activity on the running devnet, with a live display.

    Oracle rounds, PT settlements, pool swaps, FT issuance and transfers, reserve movements.
    Examples: `fictra devnet simulate`; `fictra devnet simulate --rate 20 --duration 60 --seed 7`.
    """
    _simulate(_paths(), rate=rate, duration=duration, seed=seed)


def _simulate(paths: DevnetPaths, *, rate: float, duration: float | None, seed: int) -> None:
    from fictra.chain.manifest import Manifest
    from fictra.devnet.activities import KINDS
    from fictra.devnet.chainutil import DevChain
    from fictra.devnet.scenarios import ScenarioStore
    from fictra.devnet.simulate import SimConfig, SimStats, Simulator

    config = SimConfig(rate=rate, duration=duration, seed=seed)
    config.check()
    state, note = runtime.require_running(paths)
    _note(note)
    manifest = Manifest.load(paths.manifest)

    def render(stats: SimStats) -> Table:
        table = Table(title=f"simulating on {state.rpc_url} (Ctrl-C stops)", title_justify="left")
        for column in ("sent", "failed", "skipped", "blocks", *KINDS):
            table.add_column(column, justify="right")
        counts = [str(stats.kinds.get(kind, 0)) for kind in KINDS]
        table.add_row(str(stats.sent), str(stats.failed), str(stats.skipped), str(stats.blocks), *counts)
        return table

    async def main() -> SimStats:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        async with DevChain(state.rpc_url, manifest) as chain:
            sim = Simulator(chain, config=config, store=ScenarioStore(paths.scenarios))
            with Live(render(sim.stats), console=console, refresh_per_second=4) as live:
                return await sim.run(stop=stop, on_tick=lambda s: live.update(render(s)))

    stats = _run(main())
    for error in stats.errors[-3:]:
        console.print(f"last error: {error}", style="red", markup=False)


@app.command()
def fill(
    transactions: int = typer.Option(10_000, "--transactions", "-n", help="How many transactions to add."),
    batch_size: int = typer.Option(500, "--batch-size", help="Transactions per block."),
    pt_share: float = typer.Option(
        0.25, "--pt-share", help="Share of PT transfers (the rest: ETH transfers)."
    ),
    seed: int = typer.Option(1, "--seed", help="Random seed."),
) -> None:
    """Build a long chain fast: pre-signed transfers sent in JSON-RPC batches, many per block.

    Examples: `fictra devnet fill --transactions 100000`; `fictra devnet fill -n 5000 --batch-size 100`.
    """
    from fictra.chain.manifest import Manifest
    from fictra.devnet.fill import check_fill_args
    from fictra.devnet.fill import fill as do_fill

    check_fill_args(transactions=transactions, batch_size=batch_size, pt_share=pt_share)
    paths = _paths()
    state, note = runtime.require_running(paths)
    _note(note)
    manifest = Manifest.load(paths.manifest) if paths.manifest.exists() else None
    columns = (TextColumn("fill"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("fill", total=transactions)
        result = _run(
            do_fill(
                rpc_url=state.rpc_url,
                transactions=transactions,
                manifest=manifest,
                batch_size=batch_size,
                pt_share=pt_share,
                seed=seed,
                progress=lambda done: bar.update(task, completed=done),
            )
        )
    _note(result.note)
    console.print(
        f"Added {result.transactions} transactions ({result.pt_transfers} PT transfers) in blocks "
        f"{result.first_block}..{result.last_block}: {result.tx_per_s:,.0f} tx/s."
    )


def _scenario_help() -> str:
    from fictra.devnet.scenarios import SCENARIOS

    return (
        "Apply a fault the runbooks must handle (or --undo it).\n\n"
        f"Scenarios: {', '.join(SCENARIOS)} (one line each: --list).\n\n"
        "Examples: `fictra devnet scenario --list`; `fictra devnet scenario oracle-stall --feed WTI`; "
        "`fictra devnet scenario pause --undo`; `fictra devnet scenario reorg --depth 5`."
    )


@app.command(help=_scenario_help())
def scenario(
    name: str | None = typer.Argument(None, help="Scenario name; see --list."),
    undo: bool = typer.Option(False, "--undo", help="Undo the scenario (restore the healthy state)."),
    list_: bool = typer.Option(False, "--list", help="List the scenarios with one line each."),
    feed: str = typer.Option("BRENT", "--feed", help="Oracle scenarios: the feed (BRENT, WTI, GOLD...)."),
    depth: int = typer.Option(3, "--depth", help="reorg: how many blocks to replace."),
    count: int = typer.Option(20, "--count", help="failed-tx-burst: how many reverted transactions."),
    fee_bps: int = typer.Option(100, "--fee-bps", help="fee-change: the new PT fee in basis points."),
) -> None:
    """Apply (or undo) a devnet scenario; the help text is built by :func:`_scenario_help`."""
    from fictra.devnet.scenarios import SCENARIOS, get_scenario
    from fictra.errors import UsageError

    if list_:
        width = max(len(n) for n in SCENARIOS)
        for key, cls in SCENARIOS.items():
            mark = "" if cls.reversible else " (not reversible)"
            console.print(f"{key:<{width}}  {cls.summary()}{mark}", soft_wrap=True, markup=False)
        return
    if name is None:
        raise UsageError(f"Name a scenario, or use --list. Known scenarios: {', '.join(SCENARIOS)}.")
    get_scenario(name)  # an unknown name fails before anything else
    options = ScenarioOptions(feed=feed, depth=depth, count=count, fee_bps=fee_bps)
    message = _run(_scenario(_paths(), name, undo=undo, options=options))
    console.print(message, markup=False, soft_wrap=True)


async def _scenario(paths: DevnetPaths, name: str, *, undo: bool, options: ScenarioOptions) -> str:
    from fictra.chain.manifest import Manifest
    from fictra.devnet.chainutil import DevChain
    from fictra.devnet.scenarios import ScenarioContext, ScenarioStore, run_scenario

    state, note = runtime.require_running(paths)
    _note(note)
    manifest = Manifest.load(paths.manifest)
    async with DevChain(state.rpc_url, manifest) as chain:
        ctx = ScenarioContext(
            chain=chain, store=ScenarioStore(paths.scenarios), anvil_pid=state.pid, options=options
        )
        return await run_scenario(ctx, name, undo=undo)
