"""End to end on the devnet, through the real API (users, tokens, permissions): sovereigns propose a
PaymentToken fee change through the Governor and a role grant; the real follower records both and each
raises the P1 "no change request references it"; a change request naming #1 (the changes API) and a
link from #2 (the proposals API) clear them on the next block. #1 is simulated on an Anvil fork as the
Timelock (feeBps 10 -> 60, FeeChanged decoded; the chain untouched), signed off (not twice by one
reviewer, not by a viewer), voted, queued, executed (blocks mined, time increased) and verified."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from eth_utils.crypto import keccak
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.rig import PASSWORD, ApiRig, api_rig
from changes.conftest import fee_change, shipped_config
from cli.clirun import fictra
from fictra.alerting.models import Alert
from fictra.audit.models import AuditEntry
from fictra.auth.actor import SYSTEM
from fictra.auth.permissions import load_roles
from fictra.auth.service import create_user
from fictra.chain.follower import Follower
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.types import BlockBatch
from fictra.clock import FakeClock, SystemClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.devnet.chainutil import DevChain
from fictra.devnet.scenarios import ScenarioContext, run_scenario
from fictra.devnet.scenarios.store import ScenarioStore
from fictra.errors import ScenarioError
from fictra.jobs import JobContext
from fictra.monitors.pipeline import AlertPipeline
from fictra.platform.proposals import proposals_context, proposals_monitor
from fictra.proposals.context import ProposalsContext
from fictra.proposals.follow import MONITOR
from fictra.proposals.jobs import verify_executed
from fictra.proposals.models import GovProposal

E18 = 10**18
REPO = Path(__file__).resolve().parents[2]


class Rig:
    def __init__(
        self, url: str, manifest: Manifest, sessions: async_sessionmaker[AsyncSession], pool: RpcPool
    ):
        self.url, self.manifest, self.sessions, self.pool = url, manifest, sessions, pool
        self.clock = FakeClock()
        self.monitor = proposals_monitor(manifest=manifest, clock=self.clock, pool=pool)
        self.pipeline = AlertPipeline(monitors=[self.monitor], clock=self.clock)
        self.start: int | None = None
        self.ctx: ProposalsContext

    async def follow(self) -> None:
        """Run the real follower from its checkpoint up to the current head, then stop."""
        target = int(await self.pool.call("eth_blockNumber"), 16)
        stop = asyncio.Event()

        async def on_batch(batch: BlockBatch, session: AsyncSession) -> None:
            await self.pipeline.on_batch(batch, session)
            if batch.last >= target:
                stop.set()

        follower = Follower(
            network=self.manifest.network, pool=self.pool, sessions=self.sessions, on_batch=on_batch,
            on_reorg=self.pipeline.on_reorg, clock=SystemClock(), start_block=self.start, subscribe=False,
        )  # fmt: skip
        await asyncio.wait_for(follower.run(stop), timeout=20)

    async def p1s(self) -> dict[str, str]:
        async with self.sessions() as s:
            rows = (await s.execute(select(Alert).where(Alert.monitor == MONITOR))).scalars()
            return {a.labels["proposal"]: f"{a.severity}:{a.status}" for a in rows}


async def _propose(chain: DevChain, who: str, calls: list[tuple[str, str, list[Any]]], text: str) -> tuple[
    list[str], list[str], bytes
]:  # fmt: skip
    targets = [chain.manifest.address(name) for name, _, _ in calls]
    datas = [chain.contract(name).encode_abi(fn, args=args) for name, fn, args in calls]
    await chain.send(who, "Governor", "propose", targets, [0] * len(targets), datas, text)
    return targets, datas, keccak(text=text)


URL = "/api/v1/proposals"


async def _ok(api: ApiRig, role: str, path: str, payload: Any = None, *, method: str = "POST") -> Any:
    r = await api.client.request(method, path, json=payload, headers=api.auth(role))
    assert r.status_code in (200, 201), r.text
    return r.json()


async def test_proposal_followed_simulated_reviewed_executed_verified(
    gov_url: str, gov_manifest: Manifest, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'gov.db'}"
    migrate(db)
    pool = RpcPool(
        network=gov_manifest.network, urls=[gov_url], clock=SystemClock(), chain_id=gov_manifest.chain_id
    )
    await pool.start()
    chain = DevChain(gov_url, gov_manifest)
    roles = ["technical_lead", "system_architect", "viewer"]
    try:
        async with api_rig(db, roles=roles, alerts=0) as api:
            rig = Rig(gov_url, gov_manifest, api.sessions, pool)
            ctx = proposals_context(manifest=gov_manifest, clock=api.clock, pool=pool, fork_url=gov_url)
            rig.ctx = ctx
            api.context.config = dataclasses.replace(api.context.config_set, changes=shipped_config())
            api.context.platform = SimpleNamespace(proposals=ctx)  # type: ignore[assignment]
            await _flow(api, rig, chain, gov_manifest)
    finally:
        await chain.aclose()
        await pool.aclose()


async def _flow(api: ApiRig, rig: Rig, chain: DevChain, manifest: Manifest) -> None:
    rig.start = await chain.head() + 1
    s = chain.role("sovereigns")
    attacker = chain.role("attacker")[0]
    fee = await _propose(chain, s[0], [("PaymentToken", "setFee", [60])], "PT fee 0.10% -> 0.60%")
    await _propose(
        chain, s[1], [("PaymentToken", "grantRole", [b"\x00" * 32, attacker])], "Admin for a friend"
    )
    await rig.follow()

    listed = await _ok(api, "viewer", URL, method="GET")
    assert [(p["id"], p["risk"], p["calls"], p["unreferenced"], p["phase"]) for p in listed] == [
        (2, "high", ["grantRole(bytes32,address)"], True, "pending"),
        (1, "medium", ["setFee(uint16)"], True, "pending"),
    ]
    one = await _ok(api, "viewer", f"{URL}/1", method="GET")
    [call] = one["decoded_calls"]
    assert (call["contract"], call["function"], call["args"]) == ("PaymentToken", "setFee", {"newFeeBps": 60})
    assert one["review_state"]["state"] == "awaiting simulation" and one["platform"]["connected"] is True
    pids = {p["id"]: p["proposal_id"] for p in listed}
    assert await rig.p1s() == {pids[1]: "P1:firing", pids[2]: "P1:firing"}

    # a change request names #1 (its proposal_id); #2 is linked to another change from the proposals API
    c1 = await _ok(
        api, "technical_lead", "/api/v1/changes", fee_change(proposal_id=1).model_dump(mode="json")
    )
    c2 = await _ok(
        api, "technical_lead", "/api/v1/changes", fee_change(title="Role review").model_dump(mode="json")
    )
    missing = await api.client.post(
        f"{URL}/2/links", json={"change_id": 999}, headers=api.auth("technical_lead")
    )
    assert missing.status_code == 404 and "No change request #999" in missing.json()["error"]["message"]
    await chain.mine()
    await rig.follow()
    assert await rig.p1s() == {pids[1]: "P1:resolved", pids[2]: "P1:firing"}
    linked = await _ok(api, "technical_lead", f"{URL}/2/links", {"change_id": c2["id"]})
    assert linked["changes"] == [c2["id"]] and linked["risk"] == "high"
    assert (await _ok(api, "viewer", f"{URL}/1", method="GET"))["changes"] == [c1["id"]]
    await chain.mine()
    await rig.follow()
    assert await rig.p1s() == {pids[1]: "P1:resolved", pids[2]: "P1:resolved"}

    # the review: a fork of the head, as the Timelock
    early = await api.client.post(f"{URL}/1/review", json={"verdict": "approve", "note": "x"},
                                  headers=api.auth("technical_lead"))  # fmt: skip
    assert early.status_code == 409 and "no simulation yet" in early.json()["error"]["message"]
    simulated = await _ok(api, "technical_lead", f"{URL}/1/simulate")
    simulation = simulated["simulation"]
    assert simulation["ok"] is True and simulation["block"] == await chain.head()
    assert {c["probe"]: (c["before"], c["after"]) for c in simulation["changes"]} == {
        "PaymentToken.feeBps()": (10, 60)
    }
    assert [(e["contract"], e["event"], e["args"]) for e in simulation["events"]] == [
        ("PaymentToken", "FeeChanged", {"oldFeeBps": 10, "newFeeBps": 60})
    ]
    assert await chain.call("PaymentToken", "feeBps") == 10  # the real chain is untouched
    viewer = await api.client.post(f"{URL}/1/review", json={"verdict": "approve", "note": "ok"},
                                   headers=api.auth("viewer"))  # fmt: skip
    assert viewer.status_code == 403
    review = {"verdict": "approve", "note": "fee only, FeeChanged as expected"}
    signed = await _ok(api, "technical_lead", f"{URL}/1/review", review)
    assert signed["review_state"]["state"] == "signed off"
    twice = await api.client.post(f"{URL}/1/review", json=review, headers=api.auth("technical_lead"))
    assert (
        twice.status_code == 409 and "already signed off this simulation" in twice.json()["error"]["message"]
    )

    # vote, queue, execute through the Governor and the Timelock
    targets, datas, desc_hash = fee
    await chain.mine(2)
    await chain.send(s[0], "Governor", "castVote", int(pids[1]), 1)
    await chain.send(s[1], "Governor", "castVote", int(pids[1]), 1)
    await chain.send(s[2], "Governor", "castVote", int(pids[1]), 0)
    await chain.mine(int(manifest.contracts["Governor"].meta["voting_period_blocks"]) + 1)  # type: ignore[call-overload]
    await chain.send(s[3], "Governor", "queue", targets, [0], datas, desc_hash)
    await chain.increase_time(61)
    await chain.send(s[3], "Governor", "execute", targets, [0], datas, desc_hash)
    await rig.follow()
    one = await _ok(api, "viewer", f"{URL}/1", method="GET")
    assert one["status"] == "executed" and one["eta"] is not None
    assert one["votes"] == {"for": str(2_000_000 * E18), "against": str(1_000_000 * E18), "abstain": "0"}
    assert [e["kind"] for e in one["events"]] == ["created", "vote", "vote", "vote", "queued", "executed"]
    assert one["review_state"]["state"] == "awaiting verification"
    two = await _ok(api, "viewer", f"{URL}/2", method="GET")  # nobody voted for the role grant
    assert (two["status"], two["phase"], two["unreferenced"]) == ("defeated", "defeated", False)

    # the implementation review: the simulated effects are on chain
    # the proposals.verify job runs it as system; a reviewer may run it again from the API
    job = JobContext(job="proposals.verify", due_at=api.clock.now(), now=api.clock.now(), clock=api.clock,
                     sessions=api.sessions, holder="test")  # fmt: skip
    assert await verify_executed(job, rig.ctx) == [1]
    assert await verify_executed(job, rig.ctx) == []  # done once
    by_job = await _ok(api, "viewer", f"{URL}/1", method="GET")
    assert by_job["verification"]["ok"] is True and by_job["verification"]["by"] == "system"
    verified = await _ok(api, "system_architect", f"{URL}/1/verify")
    verification = verified["verification"]
    assert verification["ok"] is True and verification["events_ok"] is True
    assert verification["checks"] == [
        {"probe": "PaymentToken.feeBps()", "expected": 60, "actual": 60, "ok": True}
    ]
    assert verified["review_state"]["state"] == "verified"
    # the console: list and detail (decoded calls, the simulation table, the review state)
    cookies = await api.session_headers("viewer")
    listing = await api.client.get("/proposals?status=all", headers=cookies)
    assert (
        listing.status_code == 200
        and 'data-proposal="2"' in listing.text
        and "setFee(uint16)" in listing.text
    )
    page = await api.client.get("/proposals/1", headers=cookies)
    assert page.status_code == 200
    for text in ('data-probe="PaymentToken.feeBps()"', "PaymentToken.FeeChanged", "newFeeBps = 60",
                 'data-review="verified"', "fee only, FeeChanged as expected"):  # fmt: skip
        assert text in page.text, text
    assert 'id="btn-approve"' not in page.text  # a viewer gets no review forms
    assert (await api.client.get("/proposals/99", headers=cookies)).status_code == 404

    async with api.sessions() as session:
        actions = await session.execute(select(AuditEntry.action).where(AuditEntry.target.like("proposal:%")))
        assert sorted(actions.scalars()) == [
            "proposal.link", "proposal.review", "proposal.simulate", "proposal.verify", "proposal.verify"
        ]  # fmt: skip
        rows = (await session.execute(select(GovProposal.id, GovProposal.alerted))).all()
        assert sorted(rows) == [(1, False), (2, False)]


async def test_governance_scenarios_propose_vote_and_pass(
    gov_url: str, gov_manifest: Manifest, tmp_path: Path
) -> None:
    """The README's walkthrough scenarios: a proposal by a sovereign voted for at once, then queued and
    executed (the fee changes on chain); neither can be undone."""
    async with DevChain(gov_url, gov_manifest) as chain:
        ctx = ScenarioContext(chain=chain, store=ScenarioStore(tmp_path / "scenarios.json"))
        ctx.options.fee_bps = 60
        with pytest.raises(ScenarioError, match="run `fictra devnet scenario governance-proposal` first"):
            await run_scenario(ctx, "governance-pass")
        await run_scenario(ctx, "governance-proposal")
        with pytest.raises(ScenarioError, match="cannot be undone"):
            await run_scenario(ctx, "governance-proposal", undo=True)
        await run_scenario(ctx, "governance-pass")
        assert await chain.call("PaymentToken", "feeBps") == 60
        assert ctx.store.load() == {}


async def test_cli_simulates_and_refuses_with_one_line(
    gov_url: str, gov_manifest: Manifest, tmp_path: Path
) -> None:
    """`fictra proposals` as a user runs it (subprocesses on the same database and devnet): simulate as a
    user with proposals.review; a user without it refused with one line and exit 2."""
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    gov_manifest.save(tmp_path / "manifest.json")
    network = (config / "network.yaml").read_text()
    network = network.replace("http://127.0.0.1:8545", gov_url).replace(
        "../.fictra/devnet/manifest.json", str(tmp_path / "manifest.json")
    )
    (config / "network.yaml").write_text(network)
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    migrate(db)
    pool = RpcPool(network="devnet", urls=[gov_url], clock=SystemClock(), chain_id=gov_manifest.chain_id)
    await pool.start()
    engine = make_engine(db)
    try:
        rig = Rig(gov_url, gov_manifest, session_factory(engine), pool)
        async with DevChain(gov_url, gov_manifest) as chain:
            rig.start = await chain.head() + 1
            await _propose(
                chain, chain.role("sovereigns")[0], [("PaymentToken", "setFee", [42])], "PT fee 0.42%"
            )
        await rig.follow()
        roles = load_roles(config / "roles.yaml")
        async with rig.sessions.begin() as session:
            for name, role in (("tom", "technical_lead"), ("val", "viewer")):
                await create_user(session, username=name, roles=[role], password=PASSWORD, role_map=roles,
                                  actor=SYSTEM, clock=rig.clock)  # fmt: skip
    finally:
        await engine.dispose()
        await pool.aclose()

    env = {"FICTRA_CONFIG_DIR": str(config), "FICTRA_DATABASE_URL": db}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return fictra(tmp_path / "data", "proposals", *args, cwd=tmp_path, env=env)

    simulated = run("simulate", "1", "--as", "tom")
    assert simulated.returncode == 0, simulated.stderr
    for text in (
        "Proposal #1",
        "medium risk",
        "NONE (raises a P1)",
        "PaymentToken.feeBps()",
        "newFeeBps': 42",
    ):
        assert text in simulated.stdout, text
    refused = run("review", "1", "--as", "val", "--approve", "--note", "x")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused
    assert "User 'val' lacks proposals.review (roles: viewer)." in " ".join(refused.stderr.split())
