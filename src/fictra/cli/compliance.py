"""`fictra compliance ...`: sanctions/threat lists (import, show, diff), screening hits (list, dispose),
re-screen, KYC records (import, list).

The CLI acts on the database. Writes are made as a user of ``fictra users`` (``--as``) holding the
permission (``compliance.manage`` or ``compliance.dispose``) and audited under that name. A list import
re-screens every known address and name in the same transaction; the running platform raises or clears
the alerts at the next block.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.auth.actor import Actor
from fictra.cli._common import config_set, console, settings
from fictra.cli.incidents_common import JSON, add_row, dump, say
from fictra.clock import SystemClock
from fictra.errors import PermissionDeniedError, UsageError

HELP = "Compliance: sanctions and threat lists, screening hits, KYC records."
app = typer.Typer(help=HELP, no_args_is_help=True)
lists_app = typer.Typer(
    help="Sanctions and threat lists: import a file, show versions, diff.", no_args_is_help=True
)
hits_app = typer.Typer(help="Screening hits: list, dispose a false positive.", no_args_is_help=True)
kyc_app = typer.Typer(help="KYC records of participants and counterparties.", no_args_is_help=True)
app.add_typer(lists_app, name="lists")
app.add_typer(hits_app, name="hits")
app.add_typer(kyc_app, name="kyc")


def _more() -> None:
    from fictra.cli.compliance_cases import cases_app, feeds_app, filings_app, sars_app

    app.add_typer(cases_app, name="cases")
    app.add_typer(sars_app, name="sars")
    app.add_typer(filings_app, name="filings")
    app.add_typer(feeds_app, name="feeds")
    import fictra.cli.compliance_reports  # noqa: F401  (report, filings generate|review|approve|submit)


AS = typer.Option(..., "--as", help="The user (fictra users) acting; needs the compliance permission.")
T = TypeVar("T")


async def _with_sessions(fn: Callable[[async_sessionmaker[AsyncSession]], Awaitable[T]]) -> T:
    from fictra.db.engine import make_engine, migrate, session_factory

    url = settings().resolved_database_url()
    migrate(url)
    engine = make_engine(url)
    try:
        return await fn(session_factory(engine))
    finally:
        await engine.dispose()


async def _actor(session: AsyncSession, username: str, permission: str) -> Actor:
    from fictra.auth.permissions import roles_from
    from fictra.auth.service import get_user

    user = await get_user(session, username=username)
    if user.disabled:
        raise UsageError(f"User '{username}' is disabled; act as an enabled user.")
    actor = Actor(
        user.id,
        user.username,
        tuple(user.roles),
        roles_from(settings().config_dir).permissions_of(list(user.roles)),
        "cli",
    )
    if not actor.can(permission):
        raise PermissionDeniedError(f"User '{username}' lacks {permission} (roles: {', '.join(user.roles)}).")
    return actor


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"Cannot read '{path}': {exc.strerror or exc}.") from None


@lists_app.command("import")
def lists_import(
    path: Path = typer.Argument(..., help="The list file (offline copy)."),
    fmt: str = typer.Option(
        ..., "--format", help="ofac_sdn_xml, ofac_csv, opensanctions_ftm, threat, eu_xml or un_xml."
    ),
    name: str = typer.Option(..., "--list", help="The list's name (e.g. ofac-sdn); versions are per name."),
    user: str = AS,
) -> None:
    """Import a new version of a list: diff, sha256 in the audit log, re-screen; all or nothing."""
    from fictra.compliance.lists import import_list
    from fictra.compliance.screening import load_index, rescreen

    data = _read(path)
    threshold = config_set().compliance.names.threshold

    async def run(sessions: async_sessionmaker[AsyncSession]) -> tuple[Any, Any]:
        clock = SystemClock()
        async with sessions.begin() as session:
            actor = await _actor(session, user, "compliance.manage")
            result = await import_list(
                session, list_name=name, fmt=fmt, data=data, file_name=str(path), actor=actor, clock=clock
            )
            screened = await rescreen(
                session, index=await load_index(session), threshold=threshold, clock=clock, actor=actor
            )
            return result, screened

    result, screened = asyncio.run(_with_sessions(run))
    v = result.version
    say(f"{v.list_name} version {v.version}: {v.entry_count} entries, {v.address_count} addresses")
    say(f"  sha256 {v.sha256}")
    c = result.diff.counts
    say(f"  diff: {c['added']} added, {c['removed']} removed, {c['changed']} changed")
    say(
        f"  re-screen: {screened.addresses} addresses, {screened.names} names; "
        f"{len(screened.opened)} hits opened, {len(screened.closed)} closed"
    )


@lists_app.command("show")
def lists_show(
    name: str | None = typer.Argument(None, help="One list (default: every list)."), as_json: bool = JSON
) -> None:
    """List versions, newest first; the version in force is marked."""
    from fictra.compliance.queries import list_versions

    async def run(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            return [
                {
                    "list": v.list_name,
                    "version": v.version,
                    "format": v.format,
                    "in_force": v.superseded_at is None,
                    "entries": v.entry_count,
                    "addresses": v.address_count,
                    "sha256": v.sha256,
                    "file": v.file_name,
                    "imported_at": v.imported_at,
                    "imported_by": v.imported_by,
                    "diff": {k: len(x) for k, x in v.diff.items() if isinstance(x, list)},
                }
                for v in await list_versions(session, list_name=name)
            ]

    rows = asyncio.run(_with_sessions(run))
    if as_json:
        dump(rows)
        return
    table = Table(
        "list", "version", "in force", "format", "entries", "addresses", "diff (+/-/~)", "sha256", "imported"
    )
    for r in rows:
        d = r["diff"]
        add_row(
            table,
            r["list"],
            str(r["version"]),
            "yes" if r["in_force"] else "",
            r["format"],
            str(r["entries"]),
            str(r["addresses"]),
            f"+{d.get('added', 0)} -{d.get('removed', 0)} ~{d.get('changed', 0)}",
            r["sha256"][:12],
            f"{r['imported_at']:%Y-%m-%d %H:%M} {r['imported_by']}",
        )
    console.print(table)


@lists_app.command("diff")
def lists_diff(
    name: str = typer.Argument(..., help="The list."),
    version: int | None = typer.Argument(None, help="The version (default: the one in force)."),
    as_json: bool = JSON,
) -> None:
    """What a version added, removed and changed against the one before it."""
    from fictra.compliance.lists import get_version

    async def run(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, dict[str, Any]]:
        async with sessions() as session:
            v = await get_version(session, list_name=name, version=version)
            return v.version, dict(v.diff)

    number, diff = asyncio.run(_with_sessions(run))
    if as_json:
        dump(diff)
        return
    say(f"{name} version {number}")
    for kind, mark in (("added", "+"), ("removed", "-"), ("changed", "~")):
        for item in diff.get(kind, []):
            addrs = ", ".join(item.get("addresses", [])) or "no addresses"
            say(f"  {mark} {item['key']}  {item['name']}  ({addrs})")


@hits_app.command("list")
def hits_list(
    state: str = typer.Option("open", "--state", help="open, closed, false_positive or all."),
    limit: int = typer.Option(100, "--limit", min=1, max=500),
    as_json: bool = JSON,
) -> None:
    """Screening hits, newest first."""
    from fictra.compliance.queries import list_hits

    async def run(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            return [
                {
                    "id": h.id,
                    "kind": h.kind,
                    "subject": h.subject,
                    "list": h.list_name,
                    "entry": h.entry_key,
                    "entry_name": h.entry_name,
                    "score": h.score,
                    "state": h.state,
                    "block": h.block_number,
                    "tx": h.tx_hash,
                    "first_seen_at": h.first_seen_at,
                    "closed_reason": h.closed_reason,
                }
                for h in await list_hits(session, state=state, limit=limit)
            ]

    rows = asyncio.run(_with_sessions(run))
    if as_json:
        dump(rows)
        return
    table = Table("id", "kind", "subject", "list", "entry", "score", "state", "block")
    for r in rows:
        add_row(
            table,
            str(r["id"]),
            r["kind"],
            r["subject"],
            r["list"],
            f"{r['entry']} {r['entry_name']}",
            f"{r['score']:.2f}",
            r["state"],
            str(r["block"] or "-"),
        )
    console.print(table)


@hits_app.command("dispose")
def hits_dispose(
    hit_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why this is a false positive (audited)."),
    user: str = AS,
) -> None:
    """Disposition an open hit as a false positive: the pair is suppressed for that list version."""
    from fictra.compliance.screening import dispose

    async def run(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions.begin() as session:
            actor = await _actor(session, user, "compliance.dispose")
            hit = await dispose(session, hit_id=hit_id, reason=reason, actor=actor, clock=SystemClock())
            return f"Hit {hit.id} ({hit.subject} / {hit.list_name} {hit.entry_key}) is a false positive."

    say(asyncio.run(_with_sessions(run)))


@app.command("rescreen")
def rescreen_cmd(user: str = AS) -> None:
    """Re-screen every known address and name against the lists in force."""
    from fictra.compliance.screening import load_index, rescreen

    threshold = config_set().compliance.names.threshold

    async def run(sessions: async_sessionmaker[AsyncSession]) -> str:
        async with sessions.begin() as session:
            actor = await _actor(session, user, "compliance.manage")
            r = await rescreen(
                session,
                index=await load_index(session),
                threshold=threshold,
                clock=SystemClock(),
                actor=actor,
            )
            opened, closed = len(r.opened), len(r.closed)
            return f"{r.addresses} addresses, {r.names} names: {opened} hits opened, {closed} closed"

    say(asyncio.run(_with_sessions(run)))


@kyc_app.command("import")
def kyc_import(
    path: Path = typer.Argument(..., help="CSV (docs/compliance.md for the columns)."), user: str = AS
) -> None:
    """Create or update KYC records from a CSV: every row or none."""
    from fictra.compliance.kyc import import_kyc_csv

    data = _read(path)

    async def run(sessions: async_sessionmaker[AsyncSession]) -> int:
        async with sessions.begin() as session:
            actor = await _actor(session, user, "compliance.manage")
            return len(await import_kyc_csv(session, data, path=str(path), actor=actor, clock=SystemClock()))

    say(f"{asyncio.run(_with_sessions(run))} KYC records imported from {path}.")


@kyc_app.command("list")
def kyc_list(as_json: bool = JSON) -> None:
    """KYC records: status, risk rating, review and expiry dates, document count."""
    from fictra.compliance.kyc import list_kyc

    async def run(sessions: async_sessionmaker[AsyncSession]) -> list[dict[str, Any]]:
        async with sessions() as session:
            return [
                {
                    "participant": r.participant,
                    "role": r.role,
                    "status": r.status,
                    "risk_rating": r.risk_rating,
                    "review_due": r.review_due,
                    "expires_at": r.expires_at,
                    "addresses": r.addresses,
                    "documents": len(r.documents),
                }
                for r in await list_kyc(session)
            ]

    rows = asyncio.run(_with_sessions(run))
    if as_json:
        dump(rows)
        return
    table = Table("participant", "role", "status", "risk", "review due", "expires", "addresses", "documents")
    for r in rows:
        add_row(
            table,
            r["participant"],
            r["role"],
            r["status"],
            r["risk_rating"],
            f"{r['review_due']:%Y-%m-%d}" if r["review_due"] else "-",
            f"{r['expires_at']:%Y-%m-%d}" if r["expires_at"] else "-",
            str(len(r["addresses"])),
            str(r["documents"]),
        )
    console.print(table)


_more()
