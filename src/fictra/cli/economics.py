"""`fictra economics fee-impact --fee-bps N [--blocks B] [--json]`: the PaymentToken transfers of the last
B blocks replayed under a proposed fee (fee revenue, participants affected, median cost per settlement)
against the current fee, read from the chain. The PT market itself is on the console's Economics page and
in the live view. `fictra economics supply [--blocks B]`: mints, burns, holders, top-10 share, Gini,
velocity."""

from __future__ import annotations

import asyncio

import typer

from fictra.cli._common import config_set, console, settings
from fictra.cli.incidents_common import JSON, dump
from fictra.clock import SystemClock
from fictra.economics.fees import FeeImpact

HELP = "Economics: the fee impact of a proposed PT fee, replayed over recent transfers."
app = typer.Typer(help=HELP, no_args_is_help=True)
E18 = 10**18


@app.command("fee-impact")
def fee_impact_cmd(
    fee_bps: int = typer.Option(..., "--fee-bps", min=0, max=100, help="The proposed fee in basis points."),
    blocks: int = typer.Option(7_200, "--blocks", min=1, max=200_000, help="Replay the last B blocks."),
    as_json: bool = JSON,
) -> None:
    """Replay recent PT transfers under ``--fee-bps``."""
    from fictra.chain.manifest import Manifest
    from fictra.chain.pool import RpcPool
    from fictra.platform.assemble import endpoint_urls, manifest_path
    from fictra.platform.economics import assess_fee

    async def run() -> tuple[FeeImpact, dict[str, object]]:
        config = config_set()
        manifest = Manifest.load(manifest_path(settings(), config, devnet=not config.network.manifest))
        pool = RpcPool(
            network=config.network.name, urls=endpoint_urls(config), clock=SystemClock(),
            chain_id=config.network.chain_id,
        )  # fmt: skip
        try:
            await pool.start()
            token = config.economics.pool.token
            return await assess_fee(pool, manifest=manifest, token=token, fee_bps=fee_bps, blocks=blocks)
        finally:
            await pool.aclose()

    impact, span = asyncio.run(run())
    if as_json:
        dump({**impact.as_dict(), **span})
        return
    console.print(
        f"{impact.transfers} PT settlements in blocks {span['from_block']}-{span['to_block']}: fee revenue "
        f"{impact.revenue_now / E18:,.4f} PT at {impact.fee_bps_now} bps -> "
        f"{impact.revenue_new / E18:,.4f} PT at {impact.fee_bps_new} bps; "
        f"{impact.participants_affected} participants affected; median cost per settlement"
        f" {impact.median_cost_now / E18:,.6f} -> {impact.median_cost_new / E18:,.6f} PT"
    )


@app.command("supply")
def supply_cmd(
    blocks: int = typer.Option(7_200, "--blocks", min=1, max=1_000_000, help="Analyse the last B blocks."),
    as_json: bool = JSON,
) -> None:
    """PT supply analysis: mints, burns, holders, top-10 share, Gini, velocity."""
    from fictra.chain.manifest import Manifest
    from fictra.chain.pool import RpcPool
    from fictra.platform.assemble import endpoint_urls, manifest_path
    from fictra.platform.economics import supply_report

    async def run() -> dict[str, object]:
        config = config_set()
        manifest = Manifest.load(manifest_path(settings(), config, devnet=not config.network.manifest))
        pool = RpcPool(
            network=config.network.name, urls=endpoint_urls(config), clock=SystemClock(),
            chain_id=config.network.chain_id,
        )  # fmt: skip
        try:
            await pool.start()
            return await supply_report(
                pool, manifest=manifest, token=config.economics.pool.token, blocks=blocks
            )
        finally:
            await pool.aclose()

    report = asyncio.run(run())
    if as_json:
        dump(report)
        return
    for key, value in report.items():
        console.print(f"{key}: {value}")
