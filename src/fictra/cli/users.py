"""`fictra users` commands: add, list, disable, unlock, token. They act directly on the database (as whoever
can run ``fictra up``), recorded in the audit log as ``cli:<os user>``."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.auth import throttle
from fictra.auth.account import unlock_user
from fictra.auth.actor import cli_actor
from fictra.auth.passwords import generate_password
from fictra.auth.permissions import RoleMap, roles_from
from fictra.auth.policy import DEFAULT_POLICY
from fictra.auth.service import check_roles, create_user, disable_user, get_user, list_users
from fictra.auth.tokens import create_token, parse_duration
from fictra.cli._common import console, settings
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory

app = typer.Typer(help="Manage users and their API tokens.", no_args_is_help=True)
T = TypeVar("T")


def _roles() -> RoleMap:
    return roles_from(settings().config_dir)


async def _in_transaction(fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    url = settings().resolved_database_url()
    migrate(url)
    engine = make_engine(url)
    try:
        async with session_factory(engine).begin() as session:
            return await fn(session)
    finally:
        await engine.dispose()


def _time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


@app.command("add")
def add(
    username: str = typer.Argument(help="Lower-case letters, digits, '.', '_', '-'."),
    role: list[str] = typer.Option(..., "--role", help="A role from config/roles.yaml (repeatable)."),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from standard input (first line)."
    ),
) -> None:
    """Add a user. Without --password-stdin a one-time password is generated and printed once.

    Examples:
      fictra users add alice --role technical_lead
      printf '%s\\n' "$PASSWORD" | fictra users add bob --role viewer --password-stdin
    """
    role_map = _roles()
    check_roles(role, role_map)  # before reading stdin: a bad role needs no password
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        generated = False
    else:
        password, generated = generate_password(), True
    clock = SystemClock()

    async def run(session: AsyncSession) -> None:
        await create_user(
            session,
            username=username,
            roles=role,
            password=password,
            role_map=role_map,
            actor=cli_actor(),
            clock=clock,
            must_change_password=generated,
        )

    asyncio.run(_in_transaction(run))
    console.print(f"Added user '{username}' with role(s) {', '.join(check_roles(role, role_map))}.")
    if generated:
        console.print(f"One-time password (shown once; change it at first login): {password}", soft_wrap=True)


@app.command("list")
def list_cmd() -> None:
    """Users with their roles and state."""
    now = SystemClock().now()

    async def run(session: AsyncSession) -> list[tuple[Any, Any]]:
        return [
            (u, await throttle.locked_until(session, username=u.username, now=now))
            for u in await list_users(session)
        ]

    users = asyncio.run(_in_transaction(run))
    if not users:
        typer.echo("No users yet (`fictra up` creates admin on first start; or fictra users add).")
        return
    table = Table("User", "Roles", "State", "Last login", "Created")
    for u, locked in users:
        state = (
            "disabled"
            if u.disabled
            else (f"locked from a client until {_time(locked)}" if locked else "active")
        )
        if u.must_change_password and not u.disabled:
            state += " (one-time password)"
        table.add_row(u.username, ", ".join(u.roles), state, _time(u.last_login_at), _time(u.created_at))
    console.print(table)


@app.command("disable")
def disable(
    username: str = typer.Argument(help="The user to disable."),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept in the audit log)."),
) -> None:
    """Disable a user: no more logins, their sessions end and their API tokens stop working."""
    clock = SystemClock()

    async def run(session: AsyncSession) -> None:
        await disable_user(session, username=username, actor=cli_actor(), clock=clock, reason=reason)

    asyncio.run(_in_transaction(run))
    console.print(f"Disabled user '{username}'.")


@app.command("unlock")
def unlock(
    username: str = typer.Argument(help="The user whose login locks to clear."),
    client: str | None = typer.Option(None, "--client", help="Also clear this client IP's own lock."),
    reason: str | None = typer.Option(None, "--reason", help="Why (kept in the audit log)."),
) -> None:
    """Clear the login locks on a user (from every client) and the slow-down of their logins.

    Example:
      fictra users unlock admin --reason "locked by a password-guessing client"
    """
    clock = SystemClock()

    async def run(session: AsyncSession) -> int:
        return await unlock_user(
            session, username=username, actor=cli_actor(), clock=clock, client=client, reason=reason
        )

    cleared = asyncio.run(_in_transaction(run))
    console.print(f"Unlocked user '{username}' ({cleared} login counter(s) cleared).")


@app.command("token")
def token(
    username: str = typer.Argument(help="Whose token (it acts as this user)."),
    scope: list[str] = typer.Option(..., "--scope", help="A permission the user holds (repeatable)."),
    expires: str = typer.Option("30d", "--expires", help="Lifetime: 30d, 12h, 90m, 2w."),
) -> None:
    """Issue an API token limited to some of the user's permissions; printed once, stored only hashed.

    Example:
      fictra users token alice --scope alerts.read --expires 30d
    """
    lifetime = parse_duration(expires)
    role_map = _roles()
    clock = SystemClock()

    async def run(session: AsyncSession) -> Any:
        user = await get_user(session, username=username)
        return await create_token(
            session,
            user=user,
            scopes=scope,
            expires_in=lifetime,
            role_map=role_map,
            actor=cli_actor(),
            clock=clock,
            policy=DEFAULT_POLICY,
        )

    new = asyncio.run(_in_transaction(run))
    scopes = ", ".join(new.scopes)
    console.print(f"Token {new.id} for '{username}' (scopes {scopes}; expires {_time(new.expires_at)} UTC).")
    console.print("Shown once; send it as 'Authorization: Bearer <token>':")
    typer.echo(new.token)
