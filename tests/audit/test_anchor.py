"""The AuditAnchor contract on a real Anvil: deploy from the operator, anchor checkpoints, and verify
against the chain (a wrong anchored root is caught); the contract's rules and custom errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from web3 import AsyncWeb3

from fictra.audit.anchor import AnchorClient, AnchorConfig, anchor_latest, deploy_anchor, load_anchor
from fictra.audit.checkpoints import create_checkpoint
from fictra.audit.signing import AuditSigner
from fictra.audit.verify import verify_log
from fictra.clock import FakeClock, SystemClock
from fictra.devnet.accounts import one
from fictra.devnet.anvil import AnvilNode
from fictra.errors import ChainError, ConfigError, ConflictError, DevnetError

from .helpers import seed


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
    config = await deploy_anchor(rpc_url=node.rpc_url, data_dir=tmp_path, clock=SystemClock())
    assert load_anchor(tmp_path) == config and config.deployed_by == one("operator").address
    async with AnchorClient(config) as client:
        async with sessions.begin() as session:
            marked = await anchor_latest(session, client=client, clock=clock)
        assert first is not None and marked.tree_size == 5 and marked.anchor_tx is not None
        assert await client.root_of(5) == bytes.fromhex(first.root_hash)
        assert await client.latest() == (5, bytes.fromhex(first.root_hash))
        async with sessions.begin() as session:  # idempotent: already on chain, nothing sent
            again = await anchor_latest(session, client=client, clock=clock)
        assert again.anchor_tx == marked.anchor_tx
        await seed(engine, clock, 3, start=5)
        async with sessions.begin() as session:
            await create_checkpoint(session, signer=signer, clock=clock)
            await anchor_latest(session, client=client, clock=clock)
        async with sessions() as session:
            report = await verify_log(session, verifier=signer.verifier, anchor=client)
        assert report.ok, report.problems
        assert report.anchors_checked == 2 and "2 anchored on chain" in report.summary()
        w3 = AsyncWeb3(AsyncWeb3.AsyncHTTPProvider(node.rpc_url))
        logs = await client.contract.events.RootAnchored().get_logs(from_block=config.deployed_block)
        await w3.provider.disconnect()
        assert [(e["args"]["treeSize"], e["args"]["by"]) for e in logs] == [
            (5, config.deployed_by),
            (8, config.deployed_by),
        ]


async def test_wrong_anchored_root_fails_verification(
    engine: AsyncEngine, clock: FakeClock, node: AnvilNode, tmp_path: Path
) -> None:
    signer = AuditSigner.generate()
    sessions = await seed(engine, clock, 6)
    async with sessions.begin() as session:
        await create_checkpoint(session, signer=signer, clock=clock)
    config = await deploy_anchor(rpc_url=node.rpc_url, data_dir=tmp_path, clock=SystemClock())
    async with AnchorClient(config) as client:
        await client.anchor(tree_size=6, root=b"\x42" * 32, clock=SystemClock())
        async with sessions() as session:
            report = await verify_log(session, verifier=signer.verifier, anchor=client)
        assert not report.ok and report.first_bad_index is None
        assert [p.kind for p in report.problems] == ["anchor"]
        assert "differs from the root anchored at the AuditAnchor" in report.problems[0].message
        async with sessions.begin() as session:
            with pytest.raises(ConflictError, match="already holds another root for tree size 6"):
                await anchor_latest(session, client=client, clock=clock)


async def test_anchor_rules_and_custom_errors(node: AnvilNode, tmp_path: Path) -> None:
    clock = SystemClock()
    config = await deploy_anchor(rpc_url=node.rpc_url, data_dir=tmp_path, clock=clock)
    async with AnchorClient(config) as client:
        with pytest.raises(DevnetError, match=r"AccessControlUnauthorizedAccount\(account=0x"):
            await client.anchor(tree_size=3, root=b"\x01" * 32, clock=clock, sender=one("attacker"))
        with pytest.raises(DevnetError, match=r"AuditAnchorEmptyTree\(\)"):
            await client.anchor(tree_size=0, root=b"\x01" * 32, clock=clock)
        with pytest.raises(DevnetError, match=r"AuditAnchorZeroRoot\(treeSize=3\)"):
            await client.anchor(tree_size=3, root=bytes(32), clock=clock)
        await client.anchor(tree_size=3, root=b"\x01" * 32, clock=clock)
        with pytest.raises(DevnetError, match=r"AuditAnchorAlreadyAnchored\(treeSize=3"):
            await client.anchor(tree_size=3, root=b"\x02" * 32, clock=clock)
        with pytest.raises(DevnetError, match=r"AuditAnchorTreeSizeNotIncreasing\(treeSize=2, latest=3\)"):
            await client.anchor(tree_size=2, root=b"\x02" * 32, clock=clock)
        assert await client.root_of(3) == b"\x01" * 32 and await client.root_of(2) is None
        assert await client.contract.functions.anchoredCount().call() == 1


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
        await deploy_anchor(rpc_url="http://127.0.0.1:9", data_dir=tmp_path, clock=SystemClock())
    assert load_anchor(tmp_path) is None
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / "anchor.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"anchor\.json' is unreadable"):
        load_anchor(tmp_path)
