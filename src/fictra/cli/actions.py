"""`fictra actions kinds|list|show|propose|amend|approve|dry-run|execute|cancel` and
`fictra keystore create|check`.

Actions talk to the database directly (like ``fictra alerts ack``). Approval rules need roles, so
``--as USER`` names a user of the database (``fictra users``) whose roles count; dry run and execute
connect to the chain with the network config and sign with the keystores of ``config/emergency.yaml``.
Key material is read from stdin or a hidden prompt, never from the command line.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.auth.actor import Actor
from fictra.cli._common import config_set, settings
from fictra.cli._response import say, stamp
from fictra.clock import SystemClock
from fictra.emergency import service
from fictra.emergency.config import EmergencyConfig
from fictra.emergency.definitions import DEFINITIONS, definition
from fictra.emergency.types import ActionView
from fictra.errors import UsageError

app = typer.Typer(
    help="Emergency and recovery actions: propose, approve, dry-run, execute.", no_args_is_help=True
)
keystore_app = typer.Typer(help="Encrypted V3 keystores for the signers.", no_args_is_help=True)

T = TypeVar("T")
AS = typer.Option(..., "--as", help="The user (fictra users) acting; their roles decide what counts.")


def _config() -> EmergencyConfig:
    return config_set().emergency


async def _user_actor(session: AsyncSession, username: str) -> Actor:
    from fictra.auth.permissions import roles_from
    from fictra.auth.service import get_user

    user = await get_user(session, username=username)
    if user.disabled:
        raise UsageError(f"User '{username}' is disabled; act as an enabled user.")
    perms = roles_from(settings().config_dir).permissions_of(list(user.roles))
    return Actor(user.id, user.username, tuple(user.roles), perms, "cli")


async def _in_tx(fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    from fictra.cli._response import in_transaction

    return await in_transaction(fn)


def _params(items: list[str], raw_json: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if raw_json:
        try:
            loaded = json.loads(raw_json)
        except ValueError as exc:
            raise UsageError(
                f'--params is not JSON ({exc}); e.g. --params \'{{"endpoint": "backup"}}\'.'
            ) from None
        if not isinstance(loaded, dict):
            raise UsageError("--params must be a JSON object.")
        params.update(loaded)
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--param '{item}' is not KEY=VALUE.")
        params[key] = value
    return params


def _show(view: ActionView, *, events: bool = True) -> None:
    say(f"Action {view.id} {view.kind} [{view.status}] — {view.title}")
    say(f"  params {json.dumps(view.params, sort_keys=True)}  hash {view.params_hash}")
    say(
        f"  proposed by {view.proposed_by} at {stamp(view.proposed_at)}"
        + (f": {view.reason}" if view.reason else "")
    )
    if view.incident_id or view.trigger_alert_id or view.policy:
        say(
            f"  incident {view.incident_id or '-'}, trigger alert {view.trigger_alert_id or '-'}, "
            f"policy {view.policy or '-'}"
        )
    say(f"  rule: {view.approvals_needed} — {'satisfied' if view.rule_satisfied else 'not satisfied'}")
    for a in view.approvals:
        state = "valid" if a.valid else f"does not count ({a.note})"
        say(
            f"    approval #{a.id} {a.approver} ({', '.join(a.roles) or a.via}) "
            f"at {stamp(a.approved_at)}: {state}"
        )
    if view.dry_run:
        say(
            f"  dry run (block {view.dry_run.block_number}, {'ok' if view.dry_run.ok else 'FAILS'}): "
            + view.dry_run.summary
        )
    for tx in view.txs:
        say(
            f"  tx {tx.label}: {tx.status} {tx.tx_hash or '-'} nonce {tx.nonce} "
            f"block {tx.block_number or '-'} "
            f"gas {tx.gas_used or '-'} confirmations {tx.confirmations}"
            + (f" error {tx.error}" if tx.error else "")
        )
    if view.scheduled_ready_at:
        say(f"  Timelock operation ready at {view.scheduled_ready_at.isoformat()}")
    if view.alert_to_confirmed_seconds is not None:
        say(f"  alert to confirmed: {view.alert_to_confirmed_seconds:.1f}s")
    if view.error:
        say(f"  error: {view.error}")
    if events:
        for e in view.events:
            say(f"  {stamp(e.at)}  {e.kind:<10} {e.actor}: {e.text}")


@app.command("kinds")
def kinds_cmd() -> None:
    """Every action kind: parameters, who proposes, the approval rule, the signer."""
    config = _config()
    for kind in DEFINITIONS:
        d = definition(kind, config.rules)
        fields = ", ".join(d.params.model_fields) or "none"
        say(f"{kind}: {d.title}")
        say(f"  params: {fields}; signer: {d.signer}; proposers: {', '.join(d.proposers)}")
        say(f"  approvals: {d.rule.describe()}")


@app.command("list")
def list_cmd(
    status: str | None = typer.Option(None, help="Only actions in this status."),
    incident: int | None = typer.Option(None, help="Only actions linked to this incident."),
    limit: int = typer.Option(50, min=1, max=1000),
) -> None:
    """Actions, newest first."""

    async def run(session: AsyncSession) -> list[ActionView]:
        return await service.list_actions(
            session, incident_id=incident, status=status, limit=limit, clock=SystemClock()
        )

    for view in asyncio.run(_in_tx(run)):
        say(f"{view.id:>5}  {view.kind:<18} {view.status:<10} {stamp(view.proposed_at)}  {view.proposed_by}")


@app.command("show")
def show_cmd(action_id: int = typer.Argument(...)) -> None:
    """One action: approvals (valid or why not), dry run, transactions, timeline."""

    async def run(session: AsyncSession) -> ActionView:
        return await service.get_action(session, action_id, clock=SystemClock())

    _show(asyncio.run(_in_tx(run)))


@app.command("propose")
def propose_cmd(
    kind: str = typer.Argument(..., help="See `fictra actions kinds`."),
    param: list[str] = typer.Option([], "--param", help="KEY=VALUE (repeatable)."),
    params_json: str | None = typer.Option(None, "--params", help="All params as a JSON object."),
    incident: int | None = typer.Option(None, help="Link to this incident."),
    reason: str | None = typer.Option(None, help="Why (shown on the timeline)."),
    as_user: str = AS,
) -> None:
    """Propose an action (a proposer with an eligible role approves it at once where the rule allows)."""
    params, config = _params(param, params_json), _config()

    async def run(session: AsyncSession) -> ActionView:
        actor = await _user_actor(session, as_user)
        return await service.propose(
            session, kind=kind, params=params, actor=actor, clock=SystemClock(), incident_id=incident,
            reason=reason, rules=config.rules,
        )  # fmt: skip

    _show(asyncio.run(_in_tx(run)), events=False)


@app.command("amend")
def amend_cmd(
    action_id: int = typer.Argument(...),
    param: list[str] = typer.Option([], "--param", help="KEY=VALUE (repeatable)."),
    params_json: str | None = typer.Option(None, "--params", help="All params as a JSON object."),
    reason: str | None = typer.Option(None),
    as_user: str = AS,
) -> None:
    """Change an open action's parameters (earlier approvals stop counting)."""
    params = _params(param, params_json)

    async def run(session: AsyncSession) -> ActionView:
        actor = await _user_actor(session, as_user)
        return await service.amend(
            session, action_id=action_id, params=params, actor=actor, clock=SystemClock(), reason=reason
        )

    _show(asyncio.run(_in_tx(run)), events=False)


@app.command("approve")
def approve_cmd(
    action_id: int = typer.Argument(...),
    params_hash: str = typer.Option(
        ..., "--hash", help="The params hash you reviewed (`fictra actions show`)."
    ),
    as_user: str = AS,
) -> None:
    """Approve the action's parameters as identified by their hash."""

    async def run(session: AsyncSession) -> ActionView:
        actor = await _user_actor(session, as_user)
        return await service.approve(
            session, action_id=action_id, actor=actor, clock=SystemClock(), params_hash=params_hash
        )

    _show(asyncio.run(_in_tx(run)), events=False)


@app.command("cancel")
def cancel_cmd(
    action_id: int = typer.Argument(...), reason: str | None = typer.Option(None), as_user: str = AS
) -> None:
    """Cancel an action that has not started executing."""

    async def run(session: AsyncSession) -> ActionView:
        actor = await _user_actor(session, as_user)
        return await service.cancel(
            session, action_id=action_id, actor=actor, clock=SystemClock(), reason=reason
        )

    _show(asyncio.run(_in_tx(run)), events=False)


async def _with_runner(fn: Callable[[Any, Any], Awaitable[T]], as_user: str) -> T:
    """Build a runner on the configured network (no platform controls: isolate/restart need `fictra up`)."""
    from fictra.chain.manifest import Manifest
    from fictra.chain.pool import RpcPool
    from fictra.db.engine import make_engine, migrate, session_factory
    from fictra.emergency.runner import ActionRunner
    from fictra.platform.assemble import endpoint_urls, manifest_path

    s = settings()
    config = config_set()
    manifest = Manifest.load(manifest_path(s, config, devnet=not config.network.manifest))
    clock = SystemClock()
    pool = RpcPool(
        network=config.network.name, urls=endpoint_urls(config), clock=clock, chain_id=config.network.chain_id
    )
    url = s.resolved_database_url()
    migrate(url)
    engine = make_engine(url)
    try:
        await pool.start()
        sessions = session_factory(engine)
        async with sessions.begin() as session:
            actor = await _user_actor(session, as_user)
        runner = ActionRunner(
            sessions=sessions,
            pool=pool,
            manifest=manifest,
            clock=clock,
            config=config.emergency,
            data_dir=s.data_dir,
        )
        return await fn(runner, actor)
    finally:
        await pool.aclose()
        await engine.dispose()


@app.command("dry-run")
def dry_run_cmd(action_id: int = typer.Argument(...), as_user: str = AS) -> None:
    """Simulate the action against current chain state (nothing is signed or sent)."""

    async def run(runner: Any, actor: Any) -> Any:
        return await runner.dry_run(action_id, actor=actor)

    dry = asyncio.run(_with_runner(run, as_user))
    say(f"Dry run of action {action_id} at block {dry.block_number}: {'ok' if dry.ok else 'WOULD FAIL'}")
    say(f"  {dry.summary}")
    for step in dry.steps:
        for event in step.get("events", []) + step.get("effect", {}).get("events", []):
            say(f"    {event['contract']}.{event['event']}({json.dumps(event['args'], default=str)})")


@app.command("execute")
def execute_cmd(action_id: int = typer.Argument(...), as_user: str = AS) -> None:
    """Execute an approved, dry-run action: sign, send, track to confirmed, verify (or schedule on the
    Timelock; run it again once the delay has passed)."""

    async def run(runner: Any, actor: Any) -> ActionView:
        view: ActionView = await runner.execute(action_id, actor)
        return view

    view = asyncio.run(_with_runner(run, as_user))
    _show(view, events=False)
    if view.status == "failed":
        sys.exit(1)


@app.command("advance")
def advance_cmd(action_id: int = typer.Argument(...), as_user: str = AS) -> None:
    """Carry a scheduled Timelock action on (executes it once the operation is ready)."""

    async def run(runner: Any, actor: Any) -> ActionView:
        result: ActionView = await runner.advance(action_id)
        return result

    _show(asyncio.run(_with_runner(run, as_user)), events=False)


def _secret(prompt: str, *, confirm: bool = False) -> SecretStr:
    """From stdin when piped, else a hidden prompt; never from argv."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline().strip()
        if not line:
            raise UsageError(f"{prompt}: nothing on stdin.")
        return SecretStr(line)
    value = typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return SecretStr(str(value))


@keystore_app.command("create")
def keystore_create(
    role: str = typer.Option(..., "--role", help="guardian or governance (recorded for messages)."),
    out: Path = typer.Option(..., "--out", help="Where to write the V3 keystore (0600)."),
    passphrase: str | None = typer.Option(
        None, "--passphrase", help="A secret reference (env:VAR or file:path); else a hidden prompt."
    ),
) -> None:
    """Encrypt a private key (read from stdin or a hidden prompt) into a V3 keystore."""
    from fictra.config.fields import resolve_secret
    from fictra.emergency.keystore import create_keystore

    if role not in ("guardian", "governance"):
        raise UsageError(f"--role '{role}': expected guardian or governance.")
    key = _secret("Private key (hex)")
    if passphrase is not None:
        if not passphrase.startswith(("env:", "file:")):
            raise UsageError(
                "--passphrase must be a secret reference (env:VAR or file:path), never the passphrase."
            )
        secret = resolve_secret(passphrase, base_dir=Path.cwd(), where="--passphrase")
    else:
        secret = _secret("Keystore passphrase", confirm=True)
    info = create_keystore(out, key, secret)
    say(f"Wrote {info.path} for the {role} signer: address {info.address} ({info.kdf}).")


@keystore_app.command("check")
def keystore_check(
    file: Path = typer.Argument(..., help="A V3 keystore."),
    passphrase: str | None = typer.Option(
        None, "--passphrase", help="env:VAR or file:path to also decrypt it."
    ),
    address: str | None = typer.Option(None, "--address", help="The address it must hold."),
) -> None:
    """Check a keystore: V3 format, address, and (with --passphrase) that it decrypts."""
    from fictra.config.fields import resolve_secret
    from fictra.emergency.keystore import inspect_keystore, open_keystore

    info, _ = inspect_keystore(file)
    if address is not None and info.address.lower() != address.lower():
        from fictra.emergency.keystore import KeystoreError

        raise KeystoreError(f"Keystore file '{file}' holds {info.address}, not {address}.")
    if passphrase is not None:
        secret = resolve_secret(passphrase, base_dir=Path.cwd(), where="--passphrase")
        asyncio.run(open_keystore(file, secret, role="keystore", secret_name=f"--passphrase {passphrase}"))
        say(f"OK: {file} is a V3 keystore for {info.address} ({info.kdf}) and the passphrase decrypts it.")
    else:
        say(f"OK: {file} is a V3 keystore for {info.address} ({info.kdf}); not decrypted (no --passphrase).")
