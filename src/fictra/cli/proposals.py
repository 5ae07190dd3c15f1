"""`fictra proposals ...`: list, show N, simulate N --as U, review N --as U --approve|--reject --note,
review N --as U --verify, link N CHANGE --as U.

The proposals are those the running platform's follower recorded from the Governor (``fictra up``);
``N`` is the proposal's number here (the ``#`` of the list). Simulations fork the first endpoint of
network.yaml with Anvil; the writes are made as a user of ``fictra users`` (``--as``) holding
``proposals.review``, and audited under their name.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.auth.actor import Actor
from fictra.cli._common import config_set, console, settings
from fictra.cli.incidents_common import JSON, add_row, dump, say
from fictra.clock import SystemClock
from fictra.errors import PermissionDeniedError, UsageError
from fictra.proposals.context import ProposalsContext

HELP = "Governance proposals: list, show, simulate on a fork, review (sign off, verify), link a change."
app = typer.Typer(help=HELP, no_args_is_help=True)
AS = typer.Option(..., "--as", help="The user (fictra users) acting; needs proposals.review.")
T = TypeVar("T")
Fn = Callable[[async_sessionmaker[AsyncSession], ProposalsContext], Awaitable[T]]


@asynccontextmanager
async def _context() -> AsyncIterator[ProposalsContext]:
    from fictra.chain.manifest import Manifest
    from fictra.platform.assemble import endpoint_urls, manifest_path
    from fictra.platform.proposals import standalone_context

    cs = config_set()
    manifest = Manifest.load(manifest_path(settings(), cs, devnet=not cs.network.manifest))
    async with standalone_context(manifest=manifest, url=endpoint_urls(cs)[0], clock=SystemClock()) as ctx:
        yield ctx


def _run(fn: Fn[T]) -> T:
    async def go() -> T:
        from fictra.db.engine import make_engine, migrate, session_factory

        url = settings().resolved_database_url()
        migrate(url)
        engine = make_engine(url)
        try:
            async with _context() as ctx:
                return await fn(session_factory(engine), ctx)
        finally:
            await engine.dispose()

    return asyncio.run(go())


async def _actor(session: AsyncSession, username: str) -> Actor:
    from fictra.auth.permissions import roles_from
    from fictra.auth.service import get_user

    user = await get_user(session, username=username)
    if user.disabled:
        raise UsageError(f"User '{username}' is disabled; act as an enabled user.")
    perms = roles_from(settings().config_dir).permissions_of(list(user.roles))
    actor = Actor(user.id, user.username, tuple(user.roles), perms, "cli")
    if not actor.can("proposals.review"):
        raise PermissionDeniedError(
            f"User '{username}' lacks proposals.review (roles: {', '.join(user.roles) or 'none'})."
        )
    return actor


def _show(d: dict[str, Any]) -> None:
    say(f"Proposal #{d['id']} [{d['phase']}] {d['risk']} risk: {d['description']}")
    say(f"  on-chain id {d['proposal_id']}, proposer {d['proposer']}, votes for {d['votes']['for']} "
        f"against {d['votes']['against']} abstain {d['votes']['abstain']}")  # fmt: skip
    say(f"  changes: {', '.join(f'#{c}' for c in d['changes']) or 'NONE (raises a P1)'}")
    for reason in d["risk_reasons"]:
        say(f"  risk: {reason}")
    calls = Table(title="Calls")
    for col in ("#", "contract", "function", "args", "value"):
        calls.add_column(col)
    for c in d["decoded_calls"]:
        args = ", ".join(f"{k}={v}" for k, v in (c["args"] or {}).items()) or (c["error"] or "")
        add_row(calls, str(c["index"]), c["contract"] or c["target"], c["function"] or "?", args, c["value"])
    console.print(calls)
    sim = d["simulation"]
    if sim:
        table = Table(title=f"Simulation at block {sim['block']} ({'ok' if sim['ok'] else 'FAILED'})")
        for col in ("state", "before", "after"):
            table.add_column(col)
        for ch in sim["changes"]:
            add_row(table, ch["probe"], str(ch["before"]), str(ch["after"]))
        console.print(table)
        for e in sim["events"]:
            say(f"  event {e['contract']}.{e['event']} {e['args']}")
    review = d["review_state"]
    say(
        f"  review: {review['state']}"
        + (f" (waits for: {'; '.join(review['waits_for'])})" if review["waits_for"] else "")
    )
    for s in d["signoffs"]:
        current = " " if s.get("simulation") == review["simulation_hash"] else " (earlier simulation) "
        say(f"    {s['verdict']} by {s['reviewer']}{current}{s['at']}: {s['note']}")
    v = d["verification"]
    if v:
        say(f"  verification: {'ok' if v['ok'] else 'FAILED'} at block {v['block']}")
        for c in v["checks"]:
            say(f"    {c['probe']}: expected {c['expected']}, on chain {c['actual']}")


async def _detail(
    sessions: async_sessionmaker[AsyncSession], ctx: ProposalsContext, n: int
) -> dict[str, Any]:
    from fictra.proposals.queries import detail

    async with sessions() as session:
        return await detail(session, ctx, proposal=n)


@app.command("list")
def list_cmd(
    status: str | None = typer.Option(None, "--status", help="created, queued, executed or canceled."),
    limit: int = typer.Option(50, "--limit", min=1, max=1000),
    as_json: bool = JSON,
) -> None:
    """Proposals, newest first: phase, risk, review state, the change requests that carry them."""
    from fictra.proposals.queries import list_proposals

    async def run(sessions: async_sessionmaker[AsyncSession], ctx: ProposalsContext) -> list[dict[str, Any]]:
        async with sessions() as session:
            return await list_proposals(session, ctx, status=status, limit=limit)

    items = _run(run)
    if as_json:
        dump(items)
        return
    table = Table()
    for col in ("#", "phase", "risk", "review", "changes", "calls", "description"):
        table.add_column(col)
    for p in items:
        changes = ", ".join(f"#{c}" for c in p["changes"]) or "none (P1)"
        add_row(table, str(p["id"]), p["phase"], p["risk"], p["review"], changes, ", ".join(p["calls"]),
                p["description"][:60])  # fmt: skip
    console.print(table)


@app.command("show")
def show_cmd(n: int = typer.Argument(..., help="The proposal's number (#)."), as_json: bool = JSON) -> None:
    """One proposal: decoded calls, risk, votes, simulation, review, verification."""
    d = _run(lambda sessions, ctx: _detail(sessions, ctx, n))
    if as_json:
        dump(d)
        return
    _show(d)


def _write(
    n: int, as_user: str, fn: Callable[[AsyncSession, ProposalsContext, Actor], Awaitable[object]]
) -> None:
    async def run(sessions: async_sessionmaker[AsyncSession], ctx: ProposalsContext) -> dict[str, Any]:
        async with sessions.begin() as session:
            actor = await _actor(session, as_user)
            await fn(session, ctx, actor)
        return await _detail(sessions, ctx, n)

    _show(_run(run))


@app.command("simulate")
def simulate_cmd(n: int = typer.Argument(...), as_user: str = AS) -> None:
    """Run the proposal's calls as the Timelock on an Anvil fork of the chain head; record the result."""
    from fictra.proposals.service import simulate

    _write(n, as_user, lambda s, ctx, actor: simulate(s, ctx, proposal=n, actor=actor))


@app.command("review")
def review_cmd(
    n: int = typer.Argument(...),
    as_user: str = AS,
    approve: bool = typer.Option(False, "--approve", help="Sign off the current simulation."),
    reject: bool = typer.Option(False, "--reject", help="Reject the current simulation."),
    verify: bool = typer.Option(False, "--verify", help="After execution: verify the effects on chain."),
    note: str = typer.Option("", "--note", help="What you checked (required to sign off)."),
) -> None:
    """Sign off (--approve/--reject --note) or, once executed, verify (--verify)."""
    from fictra.proposals.service import sign_off
    from fictra.proposals.service import verify as verify_fn

    if approve + reject + verify != 1:
        raise UsageError("Give exactly one of --approve, --reject or --verify.")
    if verify:
        _write(n, as_user, lambda s, ctx, actor: verify_fn(s, ctx, proposal=n, actor=actor))
        return
    verdict = "approve" if approve else "reject"
    _write(
        n,
        as_user,
        lambda s, ctx, actor: sign_off(s, ctx, proposal=n, actor=actor, verdict=verdict, note=note),
    )


@app.command("link")
def link_cmd(n: int = typer.Argument(...), change: int = typer.Argument(..., help="Change request id."),
             as_user: str = AS) -> None:  # fmt: skip
    """Name the change request that carries the proposal (clears its P1 on the next block)."""
    from fictra.proposals.service import link

    _write(n, as_user, lambda s, ctx, actor: link(s, ctx, proposal=n, change_id=change, actor=actor))
