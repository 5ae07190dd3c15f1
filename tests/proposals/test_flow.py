"""End to end on the devnet: sovereigns propose a PaymentToken fee change through the Governor; the
follower records it (and an unreferenced second proposal raises the P1); the first is simulated on an
Anvil fork as the Timelock (feeBps 10 -> 60, FeeChanged decoded), reviewed, voted, queued, executed and
verified on chain."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from eth_utils.crypto import keccak
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.models import Alert
from fictra.audit.models import AuditEntry
from fictra.chain.follower import Follower
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.chain.types import BlockBatch
from fictra.changes.models import ChangeRequest
from fictra.clock import FakeClock, SystemClock
from fictra.db.engine import make_engine, migrate, session_factory
from fictra.devnet.chainutil import DevChain
from fictra.errors import ConflictError
from fictra.monitors.pipeline import AlertPipeline
from fictra.platform.proposals import proposals_context, proposals_monitor
from fictra.proposals import service
from fictra.proposals.follow import MONITOR
from fictra.proposals.models import GovProposal
from fictra.proposals.queries import detail, list_proposals

E18 = 10**18


class Rig:
    def __init__(
        self, url: str, manifest: Manifest, sessions: async_sessionmaker[AsyncSession], pool: RpcPool
    ):
        self.url, self.manifest, self.sessions, self.pool = url, manifest, sessions, pool
        self.clock = FakeClock()
        self.monitor = proposals_monitor(manifest=manifest, clock=self.clock)
        self.pipeline = AlertPipeline(monitors=[self.monitor], clock=self.clock)
        self.start: int | None = None

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


async def test_proposal_followed_simulated_reviewed_executed_verified(
    gov_url: str, gov_manifest: Manifest, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'gov.db'}"
    migrate(db)
    engine = make_engine(db)
    pool = RpcPool(
        network=gov_manifest.network, urls=[gov_url], clock=SystemClock(), chain_id=gov_manifest.chain_id
    )
    await pool.start()
    chain = DevChain(gov_url, gov_manifest)
    try:
        rig = Rig(gov_url, gov_manifest, session_factory(engine), pool)
        ctx = proposals_context(manifest=gov_manifest, clock=rig.clock, pool=pool, fork_url=gov_url)
        rig.start = await chain.head() + 1
        s = chain.role("sovereigns")
        attacker = chain.role("attacker")[0]
        fee = await _propose(chain, s[0], [("PaymentToken", "setFee", [60])], "PT fee 0.10% -> 0.60%")
        await _propose(
            chain, s[1], [("PaymentToken", "grantRole", [b"\x00" * 32, attacker])], "Admin for a friend"
        )
        await rig.follow()

        async with rig.sessions() as session:
            listed = await list_proposals(session, ctx)
        assert [(p["id"], p["risk"], p["calls"], p["unreferenced"]) for p in listed] == [
            (2, "high", ["grantRole(bytes32,address)"], True),
            (1, "medium", ["setFee(uint16)"], True),
        ]
        async with rig.sessions() as session:
            one = await detail(session, ctx, proposal=1)
        [call] = one["decoded_calls"]
        assert (call["contract"], call["function"], call["args"]) == (
            "PaymentToken",
            "setFee",
            {"newFeeBps": 60},
        )
        assert one["phase"] == "pending" and one["review_state"]["state"] == "awaiting simulation"
        pids = {p["id"]: p["proposal_id"] for p in listed}
        assert await rig.p1s() == {pids[1]: "P1:firing", pids[2]: "P1:firing"}

        # a change request names proposal 1: its P1 clears on the next block; proposal 2 keeps firing
        async with rig.sessions() as session, session.begin():
            session.add(ChangeRequest(
                title="PT fee 0.10% -> 0.60%", description="", type="normal", category="protocol_parameter",
                components=["PaymentToken"], requester="rita", verification=[], notify=[], proposal_id=1,
                state="draft", content_hash="x", created_at=rig.clock.now(), updated_at=rig.clock.now(),
            ))  # fmt: skip
        await chain.mine()
        await rig.follow()
        assert await rig.p1s() == {pids[1]: "P1:resolved", pids[2]: "P1:firing"}

        # the review: a fork of the head, as the Timelock
        async with rig.sessions() as session, session.begin():
            row = await service.simulate(session, ctx, proposal=1, actor="rev-a")
            simulation = dict(row.simulation or {})
        assert simulation["ok"] is True
        assert {c["probe"]: (c["before"], c["after"]) for c in simulation["changes"]} == {
            "PaymentToken.feeBps()": (10, 60)
        }
        assert [(e["contract"], e["event"], e["args"]) for e in simulation["events"]] == [
            ("PaymentToken", "FeeChanged", {"oldFeeBps": 10, "newFeeBps": 60})
        ]
        assert await chain.call("PaymentToken", "feeBps") == 10  # the real chain is untouched
        async with rig.sessions() as session, session.begin():
            await service.sign_off(
                session, ctx, proposal=1, actor="rev-a", verdict="approve", note="fee only"
            )
        async with rig.sessions() as session, session.begin():
            try:
                await service.sign_off(
                    session, ctx, proposal=1, actor="rev-a", verdict="approve", note="again"
                )
            except ConflictError as exc:
                assert "rev-a already signed off this simulation" in exc.user_message
            else:
                raise AssertionError("a second sign-off by the same reviewer was accepted")
        async with rig.sessions() as session:
            assert (await detail(session, ctx, proposal=1))["review_state"]["state"] == "signed off"

        # vote, queue, execute through the Governor and the Timelock
        targets, datas, desc_hash = fee
        await chain.mine(2)
        await chain.send(s[0], "Governor", "castVote", int(pids[1]), 1)
        await chain.send(s[1], "Governor", "castVote", int(pids[1]), 1)
        await chain.send(s[2], "Governor", "castVote", int(pids[1]), 0)
        await chain.mine(int(gov_manifest.contracts["Governor"].meta["voting_period_blocks"]) + 1)  # type: ignore[call-overload]
        await chain.send(s[3], "Governor", "queue", targets, [0], datas, desc_hash)
        await chain.increase_time(61)
        await chain.send(s[3], "Governor", "execute", targets, [0], datas, desc_hash)
        await rig.follow()
        async with rig.sessions() as session:
            one = await detail(session, ctx, proposal=1)
        assert one["status"] == "executed" and one["eta"] is not None
        assert one["votes"] == {"for": str(2_000_000 * E18), "against": str(1_000_000 * E18), "abstain": "0"}
        assert [e["kind"] for e in one["events"]] == ["created", "vote", "vote", "vote", "queued", "executed"]
        assert one["review_state"]["state"] == "awaiting verification"

        # the implementation review: the simulated effects are on chain
        async with rig.sessions() as session, session.begin():
            row = await service.verify(session, ctx, proposal=1, actor="rev-b")
            verification = dict(row.verification or {})
        assert verification["ok"] is True and verification["events_ok"] is True
        assert verification["checks"] == [
            {"probe": "PaymentToken.feeBps()", "expected": 60, "actual": 60, "ok": True}
        ]
        async with rig.sessions() as session:
            assert (await detail(session, ctx, proposal=1))["review_state"]["state"] == "verified"
            actions = await session.execute(
                select(AuditEntry.action).where(AuditEntry.target == "proposal:1")
            )
            assert sorted(actions.scalars()) == ["proposal.review", "proposal.simulate", "proposal.verify"]
            rows = (await session.execute(select(GovProposal.id, GovProposal.alerted))).all()
            assert sorted(rows) == [(1, False), (2, True)]
    finally:
        await chain.aclose()
        await pool.aclose()
        await engine.dispose()
