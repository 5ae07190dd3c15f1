"""`fictra tokens sovereigns [--json]`: the allocation verification report (registry vs FoundationToken).
`fictra tokens issue SOVEREIGN AMOUNT_FT --reason TEXT [--doc SHA256]... --as USER`: the pre-checks (registry,
KYC, allocation left on chain, supply cap), then the ft_issue action proposed as that user; approve and
execute it with `fictra actions approve|dry-run|execute`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import typer
from rich.table import Table

from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.cli._common import config_set, console, settings
from fictra.cli.incidents_common import JSON, dump
from fictra.clock import SystemClock

HELP = "Foundation token: the sovereign allocation registry against the chain, FT issuance requests."
app = typer.Typer(help=HELP, no_args_is_help=True)


@asynccontextmanager
async def _chain() -> AsyncIterator[tuple[Manifest, RpcPool]]:
    from fictra.platform.assemble import endpoint_urls, manifest_path

    config = config_set()
    manifest = Manifest.load(manifest_path(settings(), config, devnet=not config.network.manifest))
    pool = RpcPool(
        network=config.network.name, urls=endpoint_urls(config), clock=SystemClock(),
        chain_id=config.network.chain_id,
    )  # fmt: skip
    try:
        await pool.start()
        yield manifest, pool
    finally:
        await pool.aclose()


@app.command("sovereigns")
def sovereigns_cmd(as_json: bool = JSON) -> None:
    """The allocation verification report; exit 1 when anything differs."""
    from fictra.platform.tokens import allocation_report

    async def run() -> list[dict[str, Any]]:
        async with _chain() as (manifest, pool):
            return await allocation_report(config_set().tokens, manifest=manifest, pool=pool)

    rows = asyncio.run(run())
    if as_json:
        dump(rows)
    else:
        table = Table(title="Sovereign allocations")
        for col in (
            "sovereign",
            "participant",
            "KYC",
            "allocation",
            "issued",
            "remaining",
            "votes",
            "status",
        ):
            table.add_column(col)
        for r in rows:
            table.add_row(
                r["sovereign"], r["participant"], r["kyc"], f"{r['allocation_ft']:,}",
                f"{r['issued_ft']:,.0f}", f"{r['remaining_ft']:,.0f}", f"{r['votes_ft']:,.0f}",
                "ok" if r["ok"] else "; ".join(r["problems"]),
            )  # fmt: skip
        console.print(table)
    if not all(r["ok"] for r in rows):
        raise typer.Exit(1)


@app.command("issue")
def issue_cmd(
    sovereign: str = typer.Argument(..., help="Sovereign id, e.g. SOVEREIGN-1."),
    amount: int = typer.Argument(..., min=1, help="Whole FT."),
    reason: str = typer.Option(..., "--reason", help="Why the FT is issued."),
    doc: list[str] = typer.Option([], "--doc", help="sha256 of a supporting document (repeatable)."),
    user: str = typer.Option(..., "--as", help="The user (fictra users) proposing; needs actions.propose."),
) -> None:
    """Pre-check an FT issuance and propose it as an ft_issue action."""
    from fictra.auth.actor import Actor
    from fictra.auth.permissions import roles_from
    from fictra.auth.service import get_user
    from fictra.db.engine import make_engine, migrate, session_factory
    from fictra.errors import PermissionDeniedError
    from fictra.platform.tokens import request_issuance
    from fictra.tokens.issuance import IssuanceRequest

    async def run() -> Any:
        url = settings().resolved_database_url()
        migrate(url)
        engine = make_engine(url)
        config = config_set()
        try:
            async with _chain() as (manifest, pool), session_factory(engine).begin() as session:
                row = await get_user(session, username=user)
                perms = roles_from(settings().config_dir).permissions_of(list(row.roles))
                actor = Actor(row.id, row.username, tuple(row.roles), perms, "cli")
                if row.disabled or not actor.can("actions.propose"):
                    raise PermissionDeniedError(
                        f"User '{user}' may not propose actions (needs actions.propose)."
                    )
                return await request_issuance(
                    session, config=config.tokens, emergency=config.emergency, manifest=manifest, pool=pool,
                    request=IssuanceRequest(sovereign, amount, reason, tuple(doc)), actor=actor,
                    clock=SystemClock(),
                )  # fmt: skip
        finally:
            await engine.dispose()

    view = asyncio.run(run())
    console.print(
        f"Proposed action {view.id} (ft_issue {sovereign}, {amount:,} FT), status {view.status}; params hash "
        f"{view.params_hash}. It needs approvals from an operations manager, a compliance officer and "
        "a legal representative: `fictra actions approve ID --hash HASH --as USER`."
    )
