"""The routine procedures against a real Anvil with the FICTRA system deployed and the platform running
(tests/e2e/harness.py, ``procedures=True``): each procedure's steps run through the procedures service
with the platform's own :class:`~fictra.procedures.jobs.ProceduresContext` (its RPC pool, manifest,
follower and alert pipeline).

- daily health passes on a healthy devnet and fails, with its P1 alert, after ``oracle-stall``;
- the transaction volume report's numbers equal a count made here from the chain (eth_getBlockByNumber and
  receipts) over the same 24 h window and the blocks the follower processed (the platform watches from its
  start on; the deployment's blocks are not counted on either side);
- access control verification finds a role granted on chain outside the platform;
- the system recovery procedure (fictra.platform.recovery) run from an incident: each step's evidence on
  the incident's timeline; a stored block hash the chain does not have fails data verification.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eth_abi import encode
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from e2e.harness import Running, start
from fictra.chain.models import ChainBlockHash
from fictra.devnet.scenarios.base import as_timelock, role_id
from fictra.incidents.models import IncidentEvent
from fictra.incidents.service import declare
from fictra.monitors.common import selector
from fictra.platform.recovery import run_recovery
from fictra.procedures.config import Procedure
from fictra.procedures.jobs import ProceduresContext, run_due, schedule_of
from fictra.procedures.models import ProcedureStep
from fictra.procedures.service import get_run, steps_of

pytestmark = [pytest.mark.e2e]


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    platform = await start(tmp_path, procedures=True)
    try:
        yield platform
    finally:
        await platform.close()


def _ctx(running: Running) -> ProceduresContext:
    ctx = running.platform.procedures
    if ctx is None:
        raise AssertionError("the harness did not assemble the procedures")
    return ctx


def _procedure(running: Running, name: str) -> Procedure:
    proc = _ctx(running).config.get(name)
    if proc is None:
        raise AssertionError(f"no procedure {name} in the shipped procedures.yaml")
    return proc


async def _run(running: Running, name: str, *, due_at: datetime) -> tuple[str, dict[str, ProcedureStep]]:
    """Run procedure ``name`` for ``due_at`` through the service; (run outcome, steps by name)."""
    sessions: async_sessionmaker[AsyncSession] = running.platform.sessions
    run_id = await run_due(
        sessions=sessions, ctx=_ctx(running), procedure=_procedure(running, name), due_at=due_at
    )
    async with sessions() as session:
        run = await get_run(session, run_id=run_id)
        return run.outcome, {s.name: s for s in await steps_of(session, run_id=run_id)}


def _due(running: Running, name: str) -> datetime:
    return schedule_of(_procedure(running, name)).latest_due(running.platform.clock.now())


async def test_daily_health_passes_then_fails_after_oracle_stall(running: Running) -> None:
    await running.settle()
    today = _due(running, "daily-health")
    outcome, steps = await _run(running, "daily-health", due_at=today - timedelta(days=1))
    automated = [s for s in steps.values() if s.kind == "automated"]
    assert len(automated) == 6
    assert {s.name: s.result for s in automated} == {s.name: "passed" for s in automated}, [
        (s.name, s.summary) for s in automated
    ]
    assert outcome == "open"  # the manual review is still to sign
    assert steps["oracles"].evidence is not None and steps["oracles"].evidence["data"]["stale"] == []
    assert not [a for a in await running.alerts() if a.monitor == "procedure:daily-health"]

    await running.scenario("oracle-stall")
    await running.mine()
    await running.settle()
    outcome, steps = await _run(running, "daily-health", due_at=today)
    assert outcome == "failed"
    oracles = steps["oracles"]
    assert oracles.result == "failed", oracles.summary
    assert "Feed:BRENT" in oracles.summary
    assert oracles.evidence is not None and oracles.evidence["data"]["stale"] == ["Feed:BRENT"]
    assert oracles.evidence_sha256 and len(oracles.evidence_sha256) == 64
    for name in ("endpoints", "follower-lag", "contracts"):
        assert steps[name].result == "passed", (name, steps[name].summary)
    alert = await running.poll_for_alert(
        lambda a: a.monitor == "procedure:daily-health" and a.labels.get("step") == "oracles", seconds=10
    )
    assert alert.severity == "P1"
    assert "Oracle feeds fresh failed" in alert.summary and "Feed:BRENT" in alert.summary


async def _chain_count(running: Running, *, first: int, last: int, start: int, end: int) -> dict[str, int]:
    """Blocks ``first..last`` whose own time is in (start, end]: blocks, transactions, reverted ones —
    straight from the node (eth_getBlockByNumber, eth_getTransactionReceipt)."""
    rpc = running.chain.rpc
    blocks = txs = reverted = 0
    for number in range(first, last + 1):
        block: dict[str, Any] = await rpc.call("eth_getBlockByNumber", [hex(number), False])
        if not start < int(block["timestamp"], 16) <= end:
            continue
        blocks += 1
        for tx_hash in block["transactions"]:
            txs += 1
            receipt = await rpc.call("eth_getTransactionReceipt", [tx_hash])
            reverted += int(receipt["status"], 16) == 0
    return {"blocks": blocks, "transactions": txs, "reverted": reverted}


async def test_transaction_volume_report_equals_the_chain(running: Running) -> None:
    # where the follower began: the platform watches from its start, it does not replay the deployment
    first = running.platform.follower._start_block
    assert first is not None
    traders = running.chain.role("traders")
    token = running.manifest.address("PaymentToken")
    for i in range(6):
        await running.chain.send(traders[i % 3], "PaymentToken", "transfer", traders[3], 10**18)
    # two transfers far beyond the sender's balance, mined without estimation: reverted on chain
    too_much = (
        selector("transfer(address,uint256)") + encode(["address", "uint256"], [traders[4], 10**40]).hex()
    )
    for sender in traders[:2]:
        await running.chain.send_raw(sender, token, too_much, gas=200_000)
    await running.mine(3)
    await running.settle()

    outcome, steps = await _run(running, "transaction-volume", due_at=_due(running, "transaction-volume"))
    report = steps["report"]
    assert report.result == "reported" and outcome == "open"
    assert report.evidence is not None
    data = report.evidence["data"]
    window = data["window"]
    counted = await _chain_count(
        running, first=first, last=await running.processed(), start=window["from"], end=window["to"]
    )
    assert counted["transactions"] >= 8 and counted["reverted"] == 2  # the test's own traffic at least
    assert data["transactions"] == counted["transactions"]
    assert data["reverted"] == counted["reverted"]
    assert data["blocks"] == counted["blocks"]
    assert data["failed_share"] == pytest.approx(counted["reverted"] / counted["transactions"])


async def test_access_control_finds_a_role_granted_outside_the_platform(running: Running) -> None:
    today = _due(running, "security-log-review")
    _, steps = await _run(running, "security-log-review", due_at=today - timedelta(days=1))
    check = steps["access-control"]
    assert check.result == "passed", check.summary
    assert check.evidence is not None and check.evidence["data"]["diff"] == []

    outsider = running.chain.role("traders")[7]
    await as_timelock(running.scenarios, "Reserve", "grantRole", role_id("PAUSER_ROLE"), outsider)
    await running.settle()

    outcome, steps = await _run(running, "security-log-review", due_at=today)
    check = steps["access-control"]
    assert check.result == "failed" and outcome == "failed"
    assert check.evidence is not None
    assert check.evidence["data"]["diff"] == [
        {
            "change": "unexpected",
            "contract": "Reserve",
            "role": "PAUSER_ROLE",
            "account": outsider.lower(),
            "known_as": "traders[7]",
        }
    ]
    assert "Reserve PAUSER_ROLE" in check.summary
    alert = await running.poll_for_alert(
        lambda a: a.monitor == "procedure:security-log-review" and a.labels.get("step") == "access-control",
        seconds=10,
    )
    assert alert.severity == "P1"


async def _declare(running: Running) -> int:
    async with running.platform.sessions.begin() as session:
        view = await declare(
            session,
            title="Follower stalled",
            severity="P2",
            category="infrastructure",
            actor="alice",
            clock=running.platform.clock,
        )
    return view.id


async def _recovery_events(running: Running, incident_id: int) -> list[IncidentEvent]:
    async with running.platform.sessions() as session:
        rows = await session.execute(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "recovery")
            .order_by(IncidentEvent.id)
        )
        return list(rows.scalars())


async def _keep_mining(running: Running, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await running.mine()
        await asyncio.sleep(0.2)


async def test_system_recovery_from_an_incident_puts_each_step_on_its_timeline(tmp_path: Path) -> None:
    running = await start(tmp_path, incidents=True)
    try:
        await running.mine(25)
        await running.settle()
        incident_id = await _declare(running)
        restarts = running.platform.supervisor.state("follower").restarts
        stop = asyncio.Event()
        miner = asyncio.create_task(_keep_mining(running, stop))
        try:
            report = await run_recovery(running.platform, incident_id=incident_id, actor="alice")
        finally:
            stop.set()
            await miner
        assert [(s.name, s.ok) for s in report.steps] == [
            ("restart", True),
            ("data", True),
            ("restoration", True),
            ("performance", True),
        ], [(s.name, s.summary) for s in report.steps]
        assert running.platform.supervisor.state("follower").restarts == restarts + 1
        data = report.steps[1].evidence
        assert len(data["blocks_checked"]) == 20 and data["mismatched"] == []
        assert data["audit"]["ok"] is True
        assert report.steps[3].evidence["blocks_measured"] >= 1
        events = await _recovery_events(running, incident_id)
        assert [e.ref for e in events] == [
            "recovery:restart",
            "recovery:data",
            "recovery:restoration",
            "recovery:performance",
        ]
        assert all(e.actor == "alice" and e.details["ok"] is True for e in events)
        assert events[1].details["data"]["blocks_checked"] == data["blocks_checked"]

        # a stored hash that the chain does not have: data verification fails and says which block
        async with running.platform.sessions.begin() as session:
            newest = await session.scalar(select(func.max(ChainBlockHash.number)))
            target = int(newest) - 3
            await session.execute(
                update(ChainBlockHash).where(ChainBlockHash.number == target).values(hash="0x" + "ab" * 32)
            )
        report = await run_recovery(running.platform, incident_id=incident_id, actor="alice", steps=("data",))
        assert not report.ok
        assert [m["number"] for m in report.steps[0].evidence["mismatched"]] == [target]
        events = await _recovery_events(running, incident_id)
        assert events[-1].details["ok"] is False and "FAILED" in events[-1].text
    finally:
        await running.close()
