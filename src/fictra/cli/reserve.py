"""`fictra reserve proof [--block N] [--json]`: the proof of reserve read live from the chain (every asset's
balance, oracle price with its round and age, value and what counts; the PT supply and collateral ratio),
computed exactly as the platform's monitor does. `fictra reserve history`: the ratios the running platform
recorded. Exit 1 when the reserve is below the configured minimum ratio (scripts can gate on it).
`fictra reserve rebalance --as USER`: the trades back to the allocation policy (reserve_rebalance)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from fictra.cli._common import config_set, console, settings
from fictra.cli.incidents_common import JSON, dump
from fictra.clock import SystemClock
from fictra.reserve.proof import Proof

HELP = "Reserve: proof of reserve from the chain (prices, ratio), history."
app = typer.Typer(help=HELP, no_args_is_help=True)
E18 = 10**18


async def _read(block: int | None) -> Proof:
    from fictra.chain.manifest import Manifest
    from fictra.chain.pool import RpcPool
    from fictra.platform.assemble import endpoint_urls, manifest_path
    from fictra.reserve.reads import ReserveReader

    config = config_set()
    manifest = Manifest.load(manifest_path(settings(), config, devnet=not config.network.manifest))
    proof_cfg = config.reserve.proof
    pool = RpcPool(
        network=config.network.name, urls=endpoint_urls(config), clock=SystemClock(),
        chain_id=config.network.chain_id,
    )  # fmt: skip
    try:
        await pool.start()
        tag = "latest" if block is None else hex(block)
        raw: dict[str, Any] = await pool.call("eth_getBlockByNumber", [tag, False])
        max_age = int(proof_cfg.max_price_age.total_seconds()) if proof_cfg.max_price_age else None
        reader = ReserveReader(
            manifest=manifest, pool=pool, reserve=proof_cfg.reserve, token=proof_cfg.token, max_age=max_age
        )
        return await reader.read(block=int(raw["number"], 16), timestamp=int(raw["timestamp"], 16))
    finally:
        await pool.aclose()


@app.command("proof")
def proof_cmd(
    block: int | None = typer.Option(None, "--block", min=0, help="Read at this block (default: the head)."),
    as_json: bool = JSON,
) -> None:
    """The proof of reserve at the head (or --block)."""
    proof = asyncio.run(_read(block))
    minimum = config_set().reserve.proof.min_collateral_ratio
    if as_json:
        dump(proof.as_dict())
    else:
        table = Table(title=f"Proof of reserve at block {proof.block}")
        for col in ("asset", "balance", "price", "round", "age", "value USD", "counted USD"):
            table.add_column(col)
        for a in proof.assets:
            r = a.reading
            table.add_row(
                r.symbol, f"{r.balance / 10**r.decimals:,.2f}", f"{r.answer / 10**r.feed_decimals:g}",
                str(r.round_id), f"{a.age} s" + (" STALE" if a.stale else ""), f"{a.value / E18:,.0f}",
                f"{a.counted / E18:,.0f}",
            )  # fmt: skip
        console.print(table)
        ratio = "n/a (no supply)" if proof.ratio is None else f"{proof.ratio * 100:.2f}%"
        console.print(
            f"PT supply {proof.supply / E18:,.0f} · counted reserve {proof.value / E18:,.0f} USD · "
            f"collateral ratio {ratio} (minimum {minimum * 100:.0f}%)"
        )
    if proof.ratio is not None and proof.ratio < minimum:
        raise typer.Exit(1)


@app.command("history")
def history_cmd(limit: int = typer.Option(20, "--limit", min=1, max=5000), as_json: bool = JSON) -> None:
    """The collateral ratios the running platform recorded (oldest first)."""
    from fictra.db.engine import make_engine, migrate, session_factory
    from fictra.reserve.queries import ratio_series

    async def run() -> list[tuple[int, float | None]]:
        url = settings().resolved_database_url()
        migrate(url)
        engine = make_engine(url)
        try:
            async with session_factory(engine)() as session:
                return await ratio_series(session, network=config_set().network.name, limit=limit)
        finally:
            await engine.dispose()

    rows = asyncio.run(run())
    if as_json:
        dump([{"block": b, "ratio": r} for b, r in rows])
        return
    table = Table(title="Collateral ratio")
    table.add_column("block")
    table.add_column("ratio")
    for b, r in rows:
        table.add_row(str(b), "n/a" if r is None else f"{r * 100:.2f}%")
    console.print(table)


@app.command("rebalance")
def rebalance_cmd(
    user: str = typer.Option(..., "--as", help="The user (fictra users) proposing; needs actions.propose."),
) -> None:
    """Propose the trades back to the allocation policy (reserve_rebalance) from the proof at the head."""
    from fictra.auth.actor import Actor
    from fictra.auth.permissions import roles_from
    from fictra.auth.service import get_user
    from fictra.chain.manifest import Manifest
    from fictra.chain.pool import RpcPool
    from fictra.db.engine import make_engine, migrate, session_factory
    from fictra.errors import PermissionDeniedError
    from fictra.platform.assemble import endpoint_urls, manifest_path
    from fictra.platform.reserve import request_rebalance

    async def run() -> Any:
        config = config_set()
        manifest = Manifest.load(manifest_path(settings(), config, devnet=not config.network.manifest))
        url = settings().resolved_database_url()
        migrate(url)
        engine = make_engine(url)
        pool = RpcPool(
            network=config.network.name, urls=endpoint_urls(config), clock=SystemClock(),
            chain_id=config.network.chain_id,
        )  # fmt: skip
        try:
            await pool.start()
            async with session_factory(engine).begin() as session:
                row = await get_user(session, username=user)
                perms = roles_from(settings().config_dir).permissions_of(list(row.roles))
                actor = Actor(row.id, row.username, tuple(row.roles), perms, "cli")
                if row.disabled or not actor.can("actions.propose"):
                    raise PermissionDeniedError(
                        f"User '{user}' may not propose actions (needs actions.propose)."
                    )
                return await request_rebalance(
                    session, config=config.reserve, emergency=config.emergency, manifest=manifest, pool=pool,
                    actor=actor, clock=SystemClock(),
                )  # fmt: skip
        finally:
            await pool.aclose()
            await engine.dispose()

    view = asyncio.run(run())
    for t in view.params["trades"]:
        console.print(
            f"{t['side']} {int(t['units']) / E18:,.4f} {t['symbol']} ({int(t['usd']) / E18:,.0f} USD)"
        )
    console.print(
        f"Proposed action {view.id} (reserve_rebalance), status {view.status}; params hash "
        f"{view.params_hash}. Approve, dry-run and execute it with `fictra actions`."
    )


@app.command("attest")
def attest_cmd(
    out: Path = typer.Option(..., "-o", "--out", help="Where to write the attestation JSON."),
    block: int | None = typer.Option(None, "--block", min=0, help="At this block (default: the head)."),
) -> None:
    """The attestation package at a block: holdings with a Merkle root and proofs, prices with round ids,
    supply, value, ratio (verify offline: python3 scripts/verify_attestation.py FILE)."""
    from fictra.chain.manifest import Manifest
    from fictra.platform.assemble import manifest_path
    from fictra.reserve.attestation import build_attestation

    config = config_set()
    proof = asyncio.run(_read(block))
    manifest = Manifest.load(manifest_path(settings(), config, devnet=not config.network.manifest))
    doc = build_attestation(
        proof, chain_id=manifest.chain_id, reserve=manifest.address(config.reserve.proof.reserve),
        token=manifest.address(config.reserve.proof.token),
    )  # fmt: skip
    out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    console.print(
        f"Wrote {out}: block {doc['block']}, root {doc['holdings_root']}, sha256 {doc['package_sha256']}"
    )
