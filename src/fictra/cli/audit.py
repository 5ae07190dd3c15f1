"""`fictra audit` commands: verify the log, make a checkpoint, show entries, prove inclusion and
consistency, anchor the latest checkpoint on chain (with a keystore key, or the devnet operator).

``fictra audit verify`` exits 0 when the log is intact, 1 when it was tampered with (the first line
names the first bad index), 2 when it cannot be checked (no key, anchor unreachable, bad input).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from fictra.cli._common import settings
from fictra.clock import SystemClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.errors import ChainError, ConfigError, DevnetError, UsageError

if TYPE_CHECKING:
    from fictra.chain.keystore import Signer

app = typer.Typer(
    help="The tamper-evident audit log: verify, checkpoint, show, prove, anchor.", no_args_is_help=True
)

T = TypeVar("T")


def _run(fn: Callable[[Any], Awaitable[T]], *, write: bool = False) -> T:
    from fictra.audit.seal import register

    s = settings()
    url = s.resolved_database_url()
    migrate(url)
    register(database_url=url, data_dir=s.data_dir)  # entries written here are sealed

    async def go() -> T:
        engine = make_engine(url)
        try:
            sessions = session_factory(engine)
            if write:
                async with sessions.begin() as session:
                    return await fn(session)
            async with sessions() as session:
                return await fn(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _data_dir() -> Path:
    return settings().data_dir


@app.command("verify")
def verify_cmd(
    no_anchor: bool = typer.Option(False, "--no-anchor", help="Do not check the roots anchored on chain."),
    as_json: bool = typer.Option(False, "--json", help="The report as JSON."),
) -> None:
    """Walk the hash chain, every entry's seal and the head's, every checkpoint (root, signature) and
    the anchored head; name the first bad index. The seals need the audit key (its passphrase:
    FICTRA_AUDIT_KEY_PASSPHRASE, or the devnet's generated file); without it they are not checked."""
    from fictra.audit.anchor import AnchorClient, load_anchor
    from fictra.audit.checkpoints import count_checkpoints
    from fictra.audit.seal import SealKey
    from fictra.audit.signing import KEY_FILE, load_signer, load_verifier
    from fictra.audit.verify import VerifyReport, verify_log

    data_dir = _data_dir()
    anchor_config = None if no_anchor else load_anchor(data_dir)
    seal: SealKey | None = None
    if (data_dir / "keys" / KEY_FILE).is_file():
        try:
            seal = SealKey.of(load_signer(data_dir, create=False))
        except ConfigError as exc:
            typer.echo(f"warning: the seals are not checked: {exc.user_message}", err=True)

    async def run(session: Any) -> VerifyReport:
        verifier = None
        try:
            verifier = load_verifier(data_dir)
        except ConfigError:
            if await count_checkpoints(session):
                raise
        if anchor_config is None:
            return await verify_log(session, verifier=verifier, seal=seal)
        async with AnchorClient(anchor_config) as client:
            await client.check()
            return await verify_log(session, verifier=verifier, anchor=client, seal=seal)

    try:
        report = _run(run)
    except ChainError as exc:  # cannot check: not a finding about the log
        raise DevnetError(exc.user_message) from None
    if as_json:
        doc = {
            "ok": report.ok,
            "first_bad_index": report.first_bad_index,
            "entries": report.entries,
            "checkpoints": report.checkpoints,
            "anchors_checked": report.anchors_checked,
            "seals_checked": report.seals_checked,
            "problems": [asdict(p) for p in report.problems],
        }
        typer.echo(json.dumps(doc, indent=2))
    else:
        typer.echo(report.summary())
        for problem in report.problems[1:] if len(report.problems) > 1 else []:
            typer.echo(f"  also: {problem.message}")
    if not report.ok:
        raise typer.Exit(1)


@app.command("checkpoint")
def checkpoint_cmd() -> None:
    """Sign a checkpoint (Merkle tree head) over every entry now in the log.

    The signing key is <data_dir>/keys/audit-signing.json (Ed25519, created on first use), encrypted
    with FICTRA_AUDIT_KEY_PASSPHRASE or, when that is unset, a generated passphrase kept in
    <data_dir>/keys/audit-signing.pass (mode 0600).
    """
    from fictra.audit.checkpoints import create_checkpoint
    from fictra.audit.signing import load_signer

    signer = load_signer(_data_dir())

    async def run(session: Any) -> tuple[int, int, str] | None:
        made = await create_checkpoint(session, signer=signer, clock=SystemClock())
        return None if made is None else (made.id, made.tree_size, made.root_hash)

    made = _run(run, write=True)
    if made is None:
        typer.echo("The audit log is empty; no checkpoint made.")
        return
    cid, size, root = made
    typer.echo(f"checkpoint #{cid}: tree size {size}, root {root}, signed by key {signer.key_id[:16]}")


@app.command("seal")
def seal_cmd() -> None:
    """Seal the entries of a log written before seals existed (only after it verifies; audited)."""
    from fictra.audit.backfill import seal_unsealed
    from fictra.audit.seal import SealKey
    from fictra.audit.service import record
    from fictra.audit.signing import load_signer
    from fictra.auth.actor import cli_actor

    seal = SealKey.of(load_signer(_data_dir()))

    async def run(session: Any) -> int:
        sealed = await seal_unsealed(session, seal=seal)
        if sealed:
            await record(
                session,
                actor=cli_actor(),
                action="audit.seal",
                target="audit:log",
                after={"sealed_entries": sealed},
                clock=SystemClock(),
            )
        return sealed

    sealed = _run(run, write=True)
    typer.echo(f"sealed {sealed} entries" if sealed else "every entry is already sealed")


@app.command("show")
def show_cmd(
    limit: int = typer.Option(20, "--limit", min=1, max=1000, help="At most this many, newest first."),
    action: str | None = typer.Option(None, "--action", help="Exact action, or a prefix like 'alert.*'."),
    actor: str | None = typer.Option(None, "--actor", help="Username."),
    target: str | None = typer.Option(None, "--target", help="Exact target, e.g. alert:42."),
    before: int | None = typer.Option(None, "--before", min=0, help="Only entries with a smaller index."),
    as_json: bool = typer.Option(False, "--json", help="JSON lines with every field."),
) -> None:
    """Audit entries, newest first."""
    from fictra.audit.schemas import EntryView
    from fictra.audit.service import list_entries

    async def run(session: Any) -> list[EntryView]:
        rows = await list_entries(
            session, limit=limit, before_index=before, action=action, actor=actor, target=target
        )
        return [EntryView.of(r) for r in rows]

    entries = _run(run)
    if not entries:
        typer.echo("No audit entries match.")
        return
    for entry in entries:
        if as_json:
            typer.echo(entry.model_dump_json())
            continue
        reason = f"  ({entry.reason})" if entry.reason else ""
        typer.echo(
            f"{entry.index:>6}  {entry.at:%Y-%m-%d %H:%M:%S}  {entry.actor:<14} {entry.action:<22} "
            f"{entry.target}{reason}"
        )


@app.command("prove")
def prove_cmd(
    index: int = typer.Argument(..., help="Entry index."),
    tree_size: int | None = typer.Option(None, "--tree-size", help="Checkpoint size (default: the latest)."),
    as_json: bool = typer.Option(False, "--json", help="The proof as JSON."),
) -> None:
    """The inclusion proof (audit path) of an entry in a signed checkpoint, checked."""
    from fictra.audit.checkpoints import InclusionProof, prove_inclusion

    async def run(session: Any) -> InclusionProof:
        return await prove_inclusion(session, index=index, tree_size=tree_size)

    proof = _run(run)
    if as_json:
        typer.echo(json.dumps(asdict(proof), indent=2))
    else:
        lines = [
            f"entry {proof.index} in checkpoint #{proof.checkpoint_id} (tree size {proof.tree_size})",
            f"  entry hash: {proof.entry_hash}",
            f"  leaf hash:  {proof.leaf_hash}",
            *(f"  path[{i}]:    {h}" for i, h in enumerate(proof.path)),
            f"  root:       {proof.root_hash}",
            f"  {'valid' if proof.valid else 'INVALID'}",
        ]
        typer.echo("\n".join(lines))
    if not proof.valid:
        raise typer.Exit(1)


@app.command("consistency")
def consistency_cmd(
    first: int = typer.Argument(..., help="Tree size of the older checkpoint."),
    second: int = typer.Argument(..., help="Tree size of the newer checkpoint."),
    as_json: bool = typer.Option(False, "--json", help="The proof as JSON."),
) -> None:
    """The consistency proof between two checkpoints (the older is a prefix of the newer), checked."""
    from fictra.audit.checkpoints import ConsistencyProof, prove_consistency

    async def run(session: Any) -> ConsistencyProof:
        return await prove_consistency(session, first=first, second=second)

    proof = _run(run)
    if as_json:
        typer.echo(json.dumps(asdict(proof), indent=2))
    else:
        lines = [
            f"checkpoint {proof.first} -> {proof.second}",
            *(f"  proof[{i}]: {h}" for i, h in enumerate(proof.proof)),
            f"  {'consistent' if proof.valid else 'INCONSISTENT'}",
        ]
        typer.echo("\n".join(lines))
    if not proof.valid:
        raise typer.Exit(1)


def _devnet_rpc(data_dir: Path) -> str:
    from fictra.devnet.state import DevnetPaths, load_state

    state, _ = load_state(DevnetPaths(data_dir / "devnet"))
    if state is None:
        raise UsageError("No devnet is running. Start one with `fictra devnet up`, or pass --rpc-url.")
    return state.rpc_url


def _anchor_signer(keystore: Path | None, passphrase_file: Path | None) -> Signer:
    """The key that sends anchor transactions: a V3 keystore (with its passphrase file), or by default
    the devnet ``operator`` account (the devnet glue: its keys are public test keys)."""
    from fictra.chain.keystore import Signer, open_keystore

    if keystore is None:
        from fictra.devnet.accounts import one

        operator = one("operator")
        return Signer(
            role="operator",
            key=bytes.fromhex(operator.private_key.removeprefix("0x")),
            source="devnet account 'operator'",
        )
    if passphrase_file is None:
        raise UsageError(f"--keystore {keystore} needs --passphrase-file (a file holding its passphrase).")
    try:
        secret = passphrase_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise UsageError(f"Cannot read the passphrase file '{passphrase_file}' ({exc.strerror}).") from None
    from pydantic import SecretStr

    return asyncio.run(
        open_keystore(keystore, SecretStr(secret), role="anchor", secret_name=f"'{passphrase_file}'")
    )


@app.command("anchor")
def anchor_cmd(
    deploy: bool = typer.Option(False, "--deploy", help="Deploy a new AuditAnchor first."),
    rpc_url: str | None = typer.Option(None, "--rpc-url", help="The chain (default: the running devnet)."),
    keystore: Path | None = typer.Option(
        None, "--keystore", help="V3 keystore of the anchoring key (default: the devnet operator)."
    ),
    passphrase_file: Path | None = typer.Option(
        None, "--passphrase-file", help="File holding the keystore's passphrase."
    ),
) -> None:
    """Anchor the latest checkpoint's root on chain (AuditAnchor; deployed on first use)."""
    from fictra.audit.anchor import AnchorClient, AnchorTxFile, anchor_latest, deploy_anchor, load_anchor
    from fictra.audit.service import record
    from fictra.auth.actor import cli_actor

    data_dir = _data_dir()
    clock = SystemClock()
    signer = _anchor_signer(keystore, passphrase_file)
    config = None if deploy else load_anchor(data_dir)
    deployed = config is None
    if config is None:
        url = rpc_url or _devnet_rpc(data_dir)
        config = asyncio.run(deploy_anchor(rpc_url=url, data_dir=data_dir, clock=clock, signer=signer))
        typer.echo(f"deployed AuditAnchor at {config.address} (chain {config.chain_id})")

    async def run(session: Any) -> tuple[int, int, str | None]:
        from fictra.audit.signing import load_signer

        actor = cli_actor()
        where = {"address": config.address, "chain_id": config.chain_id}
        if deployed:
            await record(
                session,
                actor=actor,
                action="audit.anchor_deploy",
                target=f"anchor:{config.address}",
                after={**where, "block": config.deployed_block, "by": config.deployed_by},
                clock=clock,
            )
        async with AnchorClient(config, rpc_url=rpc_url, clock=clock) as client:
            done = await anchor_latest(
                session,
                client=client,
                clock=clock,
                signer=signer,
                store=AnchorTxFile(data_dir),
                audit_signer=load_signer(data_dir),  # the anchored root is the log's latest head
            )
        cp = done.checkpoint
        if done.sent_tx is not None:
            await record(
                session,
                actor=actor,
                action="audit.anchor",
                target=f"checkpoint:{cp.id}",
                after={**where, "tree_size": cp.tree_size, "root_hash": cp.root_hash, "tx": done.sent_tx},
                clock=clock,
            )
        return cp.id, cp.tree_size, done.sent_tx

    cid, size, tx = _run(run, write=True)
    sent = f" in tx {tx}" if tx else " (already on chain)"
    typer.echo(f"anchored checkpoint #{cid} (tree size {size}) at {config.address}{sent}")
