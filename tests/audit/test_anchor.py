"""The AuditAnchor contract on a real Anvil: deploy from the operator, anchor checkpoints, and verify
against the chain (a wrong anchored root is caught); the contract's rules and custom errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner
from web3 import AsyncWeb3

from fictra.audit import seal
from fictra.audit.anchor import (
    AnchorClient,
    AnchorConfig,
    AnchorTxFile,
    anchor_latest,
    calldata,
    deploy_anchor,
    load_anchor,
)
from fictra.audit.checkpoints import create_checkpoint
from fictra.audit.signing import AuditSigner, load_signer
from fictra.audit.verify import verify_log
from fictra.chain import artifacts
from fictra.chain.keystore import Signer
from fictra.cli import audit
from fictra.clock import FakeClock, SystemClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.devnet.accounts import one
from fictra.devnet.anvil import AnvilNode
from fictra.errors import ChainError, ConfigError, ConflictError, DevnetError

from .helpers import seed
from .helpers import sql as sql_exec


def key(name: str) -> Signer:
    """A devnet account's key as the caller of the anchor passes it in."""
    return Signer(role=name, key=bytes.fromhex(one(name).private_key.removeprefix("0x")), source="devnet")


OPERATOR = key("operator")


@pytest.fixture(scope="module")
def node() -> Iterator[AnvilNode]:
    with AnvilNode() as anvil:
        yield anvil


async def test_anchor_then_verify_against_the_chain(
    engine: AsyncEngine, clock: FakeClock, node: AnvilNode, tmp_path: Path
) -> None:
    signer = AuditSigner.generate()
    sessions = await seed(engine, clock, 5)
    async with sessions.begin() as session:
        first = await create_checkpoint(session, signer=signer, clock=clock)
    config = await deploy_anchor(
        rpc_url=node.rpc_url, data_dir=tmp_path, clock=SystemClock(), signer=OPERATOR
    )
    assert load_anchor(tmp_path) == config and config.deployed_by == one("operator").address
    async with AnchorClient(config) as client:
        async with sessions.begin() as session:
            done = await anchor_latest(
                session, client=client, clock=clock, signer=OPERATOR, store=AnchorTxFile(tmp_path)
            )
        marked = done.checkpoint
        assert first is not None and marked.tree_size == 5 and marked.anchor_tx == done.sent_tx is not None
        assert await client.root_of(5) == bytes.fromhex(first.root_hash)
        assert await client.latest() == (5, bytes.fromhex(first.root_hash))
        async with sessions.begin() as session:  # idempotent: already on chain, nothing sent
            again = await anchor_latest(
                session, client=client, clock=clock, signer=OPERATOR, store=AnchorTxFile(tmp_path)
            )
        assert again.checkpoint.anchor_tx == marked.anchor_tx and again.sent_tx is None
        await seed(engine, clock, 3, start=5)
        async with sessions.begin() as session:
            await create_checkpoint(session, signer=signer, clock=clock)
            await anchor_latest(
                session, client=client, clock=clock, signer=OPERATOR, store=AnchorTxFile(tmp_path)
            )
        async with sessions() as session:
            report = await verify_log(session, verifier=signer.verifier, anchor=client)
        assert report.ok, report.problems
        assert report.anchors_checked == 2 and "2 anchored on chain" in report.summary()
        w3 = AsyncWeb3(AsyncWeb3.AsyncHTTPProvider(node.rpc_url))
        contract = w3.eth.contract(address=config.address, abi=list(artifacts.load("AuditAnchor").abi))  # type: ignore[arg-type]
        logs = await contract.events.RootAnchored().get_logs(from_block=config.deployed_block)
        await w3.provider.disconnect()
        assert [(e["args"]["treeSize"], e["args"]["by"]) for e in logs] == [
            (5, config.deployed_by),
            (8, config.deployed_by),
        ]
    # the devnet restarted, say: a new anchor holds none of the old roots; that is no finding, and the
    # latest checkpoint can be anchored again there
    fresh = await deploy_anchor(rpc_url=node.rpc_url, data_dir=tmp_path, clock=SystemClock(), signer=OPERATOR)
    async with AnchorClient(fresh) as client:
        async with sessions() as session:
            report = await verify_log(session, verifier=signer.verifier, anchor=client)
        assert report.ok and report.anchors_checked == 0, report.problems
        async with sessions.begin() as session:
            assert (
                await anchor_latest(
                    session, client=client, clock=clock, signer=OPERATOR, store=AnchorTxFile(tmp_path)
                )
            ).sent_tx is not None
        async with sessions() as session:
            report = await verify_log(session, verifier=signer.verifier, anchor=client)
        assert report.ok and report.anchors_checked == 1, report.problems
        await sql_exec(engine, "UPDATE audit_checkpoints SET anchor_address = :a", a=fresh.address)
        async with sessions() as session:  # now every checkpoint claims this anchor: the first is missing
            report = await verify_log(session, verifier=signer.verifier, anchor=client)
        assert [p.kind for p in report.problems] == [
            "anchor"
        ] and "holds no root for tree size 5" in report.summary()


async def test_wrong_anchored_root_fails_verification(
    engine: AsyncEngine, clock: FakeClock, node: AnvilNode, tmp_path: Path
) -> None:
    signer = AuditSigner.generate()
    sessions = await seed(engine, clock, 6)
    async with sessions.begin() as session:
        await create_checkpoint(session, signer=signer, clock=clock)
    config = await deploy_anchor(
        rpc_url=node.rpc_url, data_dir=tmp_path, clock=SystemClock(), signer=OPERATOR
    )
    async with AnchorClient(config) as client:
        await client.anchor(tree_size=6, root=b"\x42" * 32, signer=OPERATOR, store=AnchorTxFile(tmp_path))
        async with sessions() as session:
            report = await verify_log(session, verifier=signer.verifier, anchor=client)
        assert not report.ok and report.first_bad_index is None
        assert [p.kind for p in report.problems] == ["anchor"]
        assert "differs from the root anchored at the AuditAnchor" in report.problems[0].message
        async with sessions.begin() as session:
            with pytest.raises(ConflictError, match="already holds another root for tree size 6"):
                await anchor_latest(
                    session, client=client, clock=clock, signer=OPERATOR, store=AnchorTxFile(tmp_path)
                )


async def test_anchor_rules_and_custom_errors(node: AnvilNode, tmp_path: Path) -> None:
    clock = SystemClock()
    config = await deploy_anchor(rpc_url=node.rpc_url, data_dir=tmp_path, clock=clock, signer=OPERATOR)
    store = AnchorTxFile(tmp_path)
    async with AnchorClient(config) as client:
        with pytest.raises(ConflictError, match=r"AccessControlUnauthorizedAccount\(account=0x"):
            await client.anchor(tree_size=3, root=b"\x01" * 32, signer=key("attacker"), store=store)
        with pytest.raises(ConflictError, match=r"AuditAnchorEmptyTree\(\)"):
            await client.anchor(tree_size=0, root=b"\x01" * 32, signer=OPERATOR, store=store)
        with pytest.raises(ConflictError, match=r"AuditAnchorZeroRoot\(treeSize=3\)"):
            await client.anchor(tree_size=3, root=bytes(32), signer=OPERATOR, store=store)
        await client.anchor(tree_size=3, root=b"\x01" * 32, signer=OPERATOR, store=store)
        with pytest.raises(ConflictError, match=r"AuditAnchorAlreadyAnchored\(treeSize=3"):
            await client.anchor(tree_size=3, root=b"\x02" * 32, signer=OPERATOR, store=store)
        with pytest.raises(ConflictError, match=r"AuditAnchorTreeSizeNotIncreasing\(treeSize=2, latest=3\)"):
            await client.anchor(tree_size=2, root=b"\x02" * 32, signer=OPERATOR, store=store)
        assert await client.root_of(3) == b"\x01" * 32 and await client.root_of(2) is None
        (count,) = await client._read("read the count", "anchoredCount")
        assert count == 1
    assert store.pending() is None  # every sent transaction was mined and its record cleared


async def test_missing_contract_and_unreachable_node(node: AnvilNode, tmp_path: Path) -> None:
    gone = AnchorConfig(
        chain_id=31337,
        rpc_url=node.rpc_url,
        address="0x" + "11" * 20,
        deployed_block=1,
        deployed_by="0x" + "22" * 20,
    )
    async with AnchorClient(gone) as client:
        with pytest.raises(ConfigError, match="The devnet was probably restarted"):
            await client.check()
    down = gone.model_copy(update={"rpc_url": "http://127.0.0.1:9"})
    async with AnchorClient(down) as client:
        with pytest.raises(ChainError, match=r"Cannot read the chain id at http://127\.0\.0\.1:9"):
            await client.check()
    with pytest.raises(ChainError, match=r"Cannot reach the chain at http://127\.0\.0\.1:9"):
        await deploy_anchor(
            rpc_url="http://127.0.0.1:9", data_dir=tmp_path, clock=SystemClock(), signer=OPERATOR
        )
    assert load_anchor(tmp_path) is None
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / "anchor.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"anchor\.json' is unreadable"):
        load_anchor(tmp_path)


def test_cli_anchor_and_verify(node: AnvilNode, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.delenv("FICTRA_DATABASE_URL", raising=False)
    monkeypatch.delenv("FICTRA_AUDIT_KEY_PASSPHRASE", raising=False)
    monkeypatch.setenv("FICTRA_DATA_DIR", str(data))
    url = f"sqlite:///{data / 'fictra.db'}"
    migrate(url)

    seal.register(database_url=url, data_dir=data)  # as the CLI does: the entries are sealed

    async def populate() -> None:
        engine = make_engine(url)
        try:
            await seed(engine, FakeClock(), 4)
        finally:
            await engine.dispose()

    asyncio.run(populate())
    runner = CliRunner()
    assert runner.invoke(audit.app, ["checkpoint"]).exit_code == 0
    anchored = runner.invoke(audit.app, ["anchor", "--rpc-url", node.rpc_url])
    assert anchored.exit_code == 0, anchored.output
    lines = anchored.stdout.strip().splitlines()
    assert (
        lines[0].startswith("deployed AuditAnchor at 0x")
        and "anchored checkpoint #2 (tree size 5)" in lines[1]  # the latest head: the deploy entry too
    )
    again = runner.invoke(audit.app, ["anchor"])  # the recorded anchor; the head grew by the anchor entry
    assert again.exit_code == 0 and "anchored checkpoint #3 (tree size 6)" in again.stdout, again.output
    shown = runner.invoke(audit.app, ["show", "--action", "audit.*", "--json"])
    recorded = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [(e["index"], e["action"], e["target"]) for e in recorded] == [
        (6, "audit.anchor", "checkpoint:3"),
        (5, "audit.anchor", "checkpoint:2"),
        (4, "audit.anchor_deploy", f"anchor:{load_anchor(data).address}"),  # type: ignore[union-attr]
    ]
    assert recorded[0]["actor"].startswith("cli:") and recorded[0]["after"]["tree_size"] == 6
    ok = runner.invoke(audit.app, ["verify"])
    assert ok.exit_code == 0 and ok.stdout.strip().endswith("3 checkpoints verified, 2 anchored on chain")
    config = load_anchor(data)
    assert config is not None

    async def forge() -> None:  # a second checkpoint whose anchored root is wrong
        await populate()
        engine = make_engine(url)
        try:
            async with session_factory(engine).begin() as session:
                cp = await create_checkpoint(session, signer=load_signer(data), clock=FakeClock())
            assert cp is not None
            async with AnchorClient(config) as client:
                await client.anchor(
                    tree_size=cp.tree_size, root=b"\x66" * 32, signer=OPERATOR, store=AnchorTxFile(data)
                )
        finally:
            await engine.dispose()

    asyncio.run(forge())
    bad = runner.invoke(audit.app, ["verify"])
    assert bad.exit_code == 1 and "differs from the root anchored at the AuditAnchor" in bad.stdout
    assert runner.invoke(audit.app, ["verify", "--no-anchor"]).exit_code == 0
    moved = config.model_copy(update={"rpc_url": "http://127.0.0.1:9"})
    (data / "audit" / "anchor.json").write_text(moved.model_dump_json())
    down = runner.invoke(audit.app, ["verify"])
    assert isinstance(down.exception, DevnetError) and "pass --no-anchor" in down.exception.user_message


async def test_an_anchor_recorded_before_a_crash_is_rebroadcast_not_resigned(
    engine: AsyncEngine, clock: FakeClock, node: AnvilNode, tmp_path: Path
) -> None:
    signer = AuditSigner.generate()
    sessions = await seed(engine, clock, 3)
    async with sessions.begin() as session:
        checkpoint = await create_checkpoint(session, signer=signer, clock=clock)
    assert checkpoint is not None
    config = await deploy_anchor(
        rpc_url=node.rpc_url, data_dir=tmp_path, clock=SystemClock(), signer=OPERATOR
    )
    store = AnchorTxFile(tmp_path)
    async with AnchorClient(config) as client:
        await client.check()
        root = bytes.fromhex(checkpoint.root_hash)
        data = calldata("anchor", 3, root)
        # signed and recorded, then the process "dies" before the broadcast
        left = await client.sender.send(
            signer=OPERATOR, to=config.address, data=data, store=store, label="anchor", broadcast=False
        )
        pending = store.pending()
        assert pending is not None and pending["tx_hash"] == left.tx_hash
        assert await client.pool.call("eth_getTransactionByHash", [left.tx_hash]) is None
        async with sessions.begin() as session:
            done = await anchor_latest(session, client=client, clock=clock, signer=OPERATOR, store=store)
        assert done.sent_tx is None, "the recorded transaction anchored the root; nothing new was signed"
        mined = await client.pool.call("eth_getTransactionByHash", [left.tx_hash])
        assert mined is not None and int(mined["nonce"], 16) == left.nonce and mined["blockNumber"]
        assert await client.root_of(3) == root and store.pending() is None
