"""Evidence against a real devnet: the guardian's pauseAll transaction (block, tx, receipt, callTracer
trace), the contracts' state (paused, halted, role holders, supplies, reserve, oracle rounds), stored as
canonical JSON whose SHA-256 the audit log records and :func:`verify` recomputes; a node without
``debug_traceTransaction`` (a real proxy in front of Anvil refusing debug_*) gives "not offered"."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import BlockRef, Finding, Severity
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import FakeClock
from fictra.devnet.anvil import AnvilNode, rpc_call
from fictra.devnet.chainutil import DevChain
from fictra.devnet.deploy import deploy_system
from fictra.devnet.scenarios import ScenarioContext, ScenarioStore, run_scenario
from fictra.errors import ConflictError, NotFoundError
from fictra.incidents import evidence, service
from fictra.incidents.models import IncidentEvidence

from .helpers import LEAD, audit, events, fire

Sessions = async_sessionmaker[AsyncSession]


class Paused:
    def __init__(self, node: AnvilNode, manifest: Manifest, tx: str, block: dict[str, Any]) -> None:
        self.node, self.manifest, self.tx, self.block = node, manifest, tx, block


@pytest.fixture(scope="module")
def node() -> Iterator[AnvilNode]:
    with AnvilNode() as anvil:
        yield anvil


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def paused(node: AnvilNode, tmp_path_factory: pytest.TempPathFactory) -> Paused:
    """A deployed system whose guardian has paused every contract (the pause scenario)."""
    manifest = await deploy_system(node.rpc_url)
    store = ScenarioStore(tmp_path_factory.mktemp("scenarios") / "scenarios.json")
    async with DevChain(node.rpc_url, manifest) as chain:
        await run_scenario(ScenarioContext(chain=chain, store=store), "pause")
    block = rpc_call(node.rpc_url, "eth_getBlockByNumber", ["latest", False])
    assert isinstance(block, dict) and block["transactions"]
    return Paused(node, manifest, str(block["transactions"][-1]), block)


async def _pool(url: str, clock: FakeClock) -> RpcPool:
    pool = RpcPool(network="devnet", urls=[url], clock=clock)
    await pool.start()
    return pool


async def _incident(sessions: Sessions, clock: FakeClock, paused: Paused) -> tuple[int, int]:
    number = int(paused.block["number"], 16)
    finding = Finding(
        monitor="contract-status",
        severity=Severity.P0,
        summary="PaymentToken paused",
        labels={"contract": "PaymentToken", "condition": "paused"},
        network="devnet",
        block=BlockRef(number, str(paused.block["hash"])),
        evidence={"observed": True, "expected": False},
        tx_hashes=(paused.tx,),
    )
    [alert_id] = await fire(sessions, clock, finding)
    async with sessions.begin() as s:
        view = await service.declare(
            s,
            title="Paused",
            severity="P0",
            category="smart_contract",
            actor=LEAD,
            clock=clock,
            alert_ids=[alert_id],
        )
    return view.id, alert_id


async def test_collect_on_a_real_devnet_and_verify(
    sessions: Sessions, clock: FakeClock, paused: Paused
) -> None:
    iid, alert_id = await _incident(sessions, clock, paused)
    pool = await _pool(paused.node.rpc_url, clock)
    try:
        async with sessions.begin() as s:
            record = await evidence.collect(
                s,
                incident_id=iid,
                pool=pool,
                manifest=paused.manifest,
                clock=clock,
                actor=LEAD,
                trigger="declaration",
            )
    finally:
        await pool.aclose()
    async with sessions() as s:
        document = await evidence.get_document(s, incident_id=iid, evidence_id=record["id"])
        assert await evidence.verify(s, incident_id=iid, evidence_id=record["id"]) == {
            "evidence_id": record["id"],
            "sha256": record["sha256"],
            "verified": True,
        }
    assert evidence.document_hash(document) == record["sha256"]
    doc = json.loads(document)
    assert json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == document  # canonical
    [alert] = doc["alerts"]
    assert alert["id"] == alert_id and alert["tx_hashes"] == [paused.tx]
    tx = doc["transactions"][paused.tx]
    assert tx["receipt"]["status"] == "0x1" and tx["transaction"]["hash"] == paused.tx
    guardian = paused.manifest.roles["guardian"][0]
    assert tx["transaction"]["from"].lower() == guardian.lower()
    assert (
        tx["trace"]["type"] == "CALL"
        and tx["trace"]["to"].lower() == paused.manifest.address("EmergencyController").lower()
    )
    assert tx["trace"]["calls"], "the callTracer shows pauseAll's calls into each pausable"
    assert doc["blocks"][str(int(paused.block["number"], 16))]["hash"] == paused.block["hash"]
    state = doc["state"]
    assert state["paused"] and all(v is True for v in state["paused"].values())
    assert {"PaymentToken", "FoundationToken", "Reserve"} <= set(state["paused"])
    assert state["trading_halted"] is False
    assert "guardian" in state["roles"]["EmergencyController"]["GUARDIAN_ROLE"]
    assert "EmergencyController" in state["roles"]["PaymentToken"]["PAUSER_ROLE"]
    assert int(state["supplies"]["PaymentToken"]) > 0
    assert int(state["reserve"]["collateral_ratio_bps"]) > 0 and state["reserve"]["holdings"]
    feeds = [n for n in paused.manifest.contracts if n.startswith("Feed:")]
    assert feeds and set(feeds) <= set(state["oracles"])
    assert int(state["oracles"][feeds[0]]["answer"]) > 0
    [entry] = await audit(sessions, "incident.evidence")
    assert entry["after"]["sha256"] == record["sha256"] and entry["target"] == f"incident:{iid}"
    timeline = [t for k, t in await events(sessions, iid) if k == "evidence"]
    assert timeline[0].endswith(f"sha256 {record['sha256']}") and "contracts paused" in timeline[0]

    # tampering with the stored document is detected
    async with sessions.begin() as s:
        await s.execute(
            update(IncidentEvidence)
            .where(IncidentEvidence.id == record["id"])
            .values(document=document.replace('"trading_halted":false', '"trading_halted":true'))
        )
    async with sessions() as s:
        with pytest.raises(ConflictError, match=f"Evidence {record['id']} of incident {iid} does not verify"):
            await evidence.verify(s, incident_id=iid, evidence_id=record["id"])
        with pytest.raises(NotFoundError, match=f"Incident {iid} has no evidence 999"):
            await evidence.verify(s, incident_id=iid, evidence_id=999)


@pytest_asyncio.fixture(loop_scope="session")
async def no_debug_proxy(paused: Paused) -> AsyncIterator[str]:
    """A JSON-RPC proxy in front of the real node that answers debug_* as 'method not found'."""
    client = aiohttp.ClientSession()

    async def handle(request: web.Request) -> web.Response:
        payload = await request.json()
        items = payload if isinstance(payload, list) else [payload]
        if any(str(i.get("method", "")).startswith("debug_") for i in items):
            errors = [
                {
                    "jsonrpc": "2.0",
                    "id": i.get("id"),
                    "error": {"code": -32601, "message": "Method not found"},
                }
                for i in items
            ]
            return web.json_response(errors if isinstance(payload, list) else errors[0])
        async with client.post(paused.node.rpc_url, json=payload) as upstream:
            return web.json_response(await upstream.json())

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/"
    finally:
        await runner.cleanup()
        await client.close()


async def test_trace_not_offered(
    sessions: Sessions, clock: FakeClock, paused: Paused, no_debug_proxy: str
) -> None:
    iid, _ = await _incident(sessions, clock, paused)
    pool = await _pool(no_debug_proxy, clock)
    try:
        async with sessions.begin() as s:
            record = await evidence.collect(
                s, incident_id=iid, pool=pool, manifest=paused.manifest, clock=clock, actor=LEAD
            )
    finally:
        await pool.aclose()
    assert record["summary"]["traces"] == ["not offered"]
    async with sessions() as s:
        doc = json.loads(await evidence.get_document(s, incident_id=iid, evidence_id=record["id"]))
    assert doc["transactions"][paused.tx]["trace"] == "not offered"
    assert doc["transactions"][paused.tx]["receipt"]["status"] == "0x1"


async def test_unreachable_node_stores_nothing(
    sessions: Sessions, clock: FakeClock, paused: Paused, tmp_path: Path
) -> None:
    from fictra.errors import ChainError

    iid, _ = await _incident(sessions, clock, paused)
    pool = await _pool(paused.node.rpc_url, clock)
    try:
        pool.set_isolated(0, True)
        async with sessions.begin() as s:
            with pytest.raises(ChainError):
                await evidence.collect(
                    s, incident_id=iid, pool=pool, manifest=paused.manifest, clock=clock, actor=LEAD
                )
    finally:
        await pool.aclose()
    async with sessions() as s:
        assert await evidence.list_evidence(s, incident_id=iid) == []
    assert await audit(sessions, "incident.evidence") == []


async def test_auto_declared_incident_gets_evidence_from_the_tick(
    sessions: Sessions, clock: FakeClock, paused: Paused
) -> None:
    from fictra.incidents.config import IncidentsConfig
    from fictra.incidents.flows import IncidentsContext
    from fictra.incidents.jobs import tick_once
    from fictra.monitors.base import MonitorOutput
    from fictra.monitors.pipeline import AlertPipeline

    pool = await _pool(paused.node.rpc_url, clock)
    ctx = IncidentsContext(config=IncidentsConfig(), clock=clock, pool=pool, manifest=paused.manifest)
    alerts = AlertPipeline(monitors=[], clock=clock, on_changes=ctx.on_changes)
    number = int(paused.block["number"], 16)
    finding = Finding(
        monitor="contract-status",
        severity=Severity.P0,
        summary="PaymentToken paused",
        labels={"contract": "PaymentToken", "condition": "paused"},
        network="devnet",
        block=BlockRef(number, str(paused.block["hash"])),
        tx_hashes=(paused.tx,),
    )
    try:
        async with sessions.begin() as s:
            await alerts.ingest(s, MonitorOutput(findings=[finding]), network="devnet", head=number)
        assert await tick_once(sessions=sessions, ctx=ctx) == {"jobs": 1, "reminded": 0}
    finally:
        await pool.aclose()
    [iid] = ctx.declared
    async with sessions() as s:
        [record] = await evidence.list_evidence(s, incident_id=iid)
        assert (await evidence.verify(s, incident_id=iid, evidence_id=record["id"]))["verified"] is True
    assert record["trigger"] == "declaration" and record["collected_by"] == "system"
    assert record["summary"]["transactions"] == [paused.tx] and record["summary"]["traces"] == ["offered"]


async def test_evidence_over_http(database_url: str, paused: Paused) -> None:
    from api.rig import api_rig
    from fictra.incidents.config import IncidentsConfig
    from fictra.incidents.flows import IncidentsContext

    async with api_rig(database_url, roles=["security_officer", "viewer"], alerts=0) as rig:
        pool = await _pool(paused.node.rpc_url, rig.clock)
        rig.app.state.incidents_context = IncidentsContext(
            config=IncidentsConfig(), clock=rig.clock, pool=pool, manifest=paused.manifest
        )
        try:
            iid, _ = await _incident(rig.sessions, rig.clock, paused)
            base = f"/api/v1/incidents/{iid}/evidence"
            denied = await rig.client.post(base, headers=rig.auth("viewer"))
            assert denied.status_code == 403
            created = await rig.client.post(base, headers=rig.auth("security_officer"))
            assert created.status_code == 201, created.text
            record = created.json()
            assert record["collected_by"] == "u-security-officer" and record["trigger"] == "on_demand"
        finally:
            await pool.aclose()
        document = await rig.client.get(f"{base}/{record['id']}", headers=rig.auth("viewer"))
        assert document.headers["content-type"] == "application/json"
        assert evidence.document_hash(document.text) == record["sha256"]
        verified = await rig.client.get(f"{base}/{record['id']}/verify", headers=rig.auth("viewer"))
        assert verified.json() == {"evidence_id": record["id"], "sha256": record["sha256"], "verified": True}
        listed = await rig.client.get(base, headers=rig.auth("viewer"))
        assert [r["sha256"] for r in listed.json()] == [record["sha256"]]
