"""The emergency-actions API through the real app (tokens per role, one error shape): proposing,
the four approval refusals as 409s, permissions, policies; dry run and execute against a devnet."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from prometheus_client import CollectorRegistry

from api.rig import CONFIG_DIR, api_rig
from emergency.rig import emergency_config
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.devnet.accounts import one
from fictra.emergency.controls import MemoryControls
from fictra.emergency.keystore import write_devnet_keystores
from fictra.emergency.runner import ActionRunner
from fictra.platform.config_set import load_config_set

ROLES = ["security_officer", "technical_lead", "operations_manager", "system_architect", "viewer"]


async def test_propose_approve_and_each_refusal(database_url: str) -> None:
    async with api_rig(database_url, roles=ROLES, alerts=1) as rig:
        c = rig.client
        shutil.copy(CONFIG_DIR / "emergency.yaml", rig.context.settings.config_dir / "emergency.yaml")
        rig.context.config = load_config_set(rig.context.settings.config_dir)  # read once, as at start-up
        names = ("technical_lead", "operations_manager", "system_architect", "security_officer", "viewer")
        lead, ops, arch, sec, viewer = (rig.auth(r) for r in names)
        r = await c.get("/api/v1/actions/kinds", headers=viewer)
        assert r.status_code == 200
        kinds = {k["kind"]: k for k in r.json()}
        assert kinds["unpause_all"]["approval"]["must_include"] == ["operations_manager"]
        assert kinds["isolate"]["params_schema"]["properties"]["endpoint"]
        r = await c.post("/api/v1/actions", json={"kind": "unpause_all"}, headers=viewer)
        assert r.status_code == 403 and "actions.propose" in r.json()["error"]["message"]
        r = await c.post("/api/v1/actions", json={"kind": "pause_all", "params": {"x": 1}}, headers=lead)
        assert r.status_code == 422 and "x: unknown parameter" in r.json()["error"]["message"]

        r = await c.post("/api/v1/actions", json={"kind": "unpause_all", "reason": "recovered"}, headers=lead)
        assert r.status_code == 201, r.text
        action = r.json()
        url, h = f"/api/v1/actions/{action['id']}", action["params_hash"]
        # the same person twice
        r = await c.post(f"{url}/approve", json={"params_hash": h}, headers=lead)
        assert r.status_code == 409 and "already approved" in r.json()["error"]["message"]
        # wrong role: the viewer lacks the permission (403); an approver whose role the rule does not
        # accept is a 409 naming both
        r = await c.post(f"{url}/approve", json={"params_hash": h}, headers=viewer)
        assert r.status_code == 403
        r = await c.post("/api/v1/actions", json={"kind": "pause_all"}, headers=sec)
        pause = r.json()
        r = await c.post(
            f"/api/v1/actions/{pause['id']}/approve", json={"params_hash": pause["params_hash"]}, headers=arch
        )
        assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
        message = r.json()["error"]["message"]
        assert "'u-system-architect' cannot approve pause_all" in message
        assert "security_officer or technical_lead" in message and "roles are system_architect" in message
        # parameters changed after approval (stale hash)
        r = await c.post(f"{url}/approve", json={"params_hash": "0" * 64}, headers=ops)
        assert r.status_code == 409 and "parameters changed" in r.json()["error"]["message"]
        # expired: the lead's approval lapses after 4h
        rig.clock.advance(5 * 3600)
        r = await c.post(f"{url}/approve", json={"params_hash": h}, headers=ops)
        assert r.status_code == 200 and r.json()["status"] == "proposed"
        approvals = r.json()["approvals"]
        assert [a["valid"] for a in approvals] == [False, True] and "expired at" in approvals[0]["note"]
        r = await c.post(f"{url}/approve", json={"params_hash": h}, headers=arch)
        assert r.json()["status"] == "approved"
        r = await c.post(f"{url}/dry-run", headers=ops)
        assert r.status_code == 409 and "No action runner in this process" in r.json()["error"]["message"]

        r = await c.post(
            "/api/v1/actions", json={"kind": "isolate", "params": {"endpoint": "a"}}, headers=arch
        )
        iso = r.json()
        r = await c.post(
            f"/api/v1/actions/{iso['id']}/amend", json={"params": {"endpoint": "b"}}, headers=lead
        )
        assert r.status_code == 200 and r.json()["status"] == "proposed"
        r = await c.post(
            f"/api/v1/actions/{iso['id']}/approve", json={"params_hash": iso["params_hash"]}, headers=sec
        )
        assert r.status_code == 409 and "changed by u-technical-lead" in r.json()["error"]["message"]
        r = await c.post(f"/api/v1/actions/{iso['id']}/cancel", json={"reason": "wrong one"}, headers=lead)
        assert r.json()["status"] == "cancelled"
        r = await c.get("/api/v1/actions?status=cancelled", headers=viewer)
        assert r.status_code == 200
        assert [a["id"] for a in r.json()] == [iso["id"]]
        assert (await c.get("/api/v1/actions/999", headers=viewer)).status_code == 404

        r = await c.get("/api/v1/response-policies", headers=viewer)
        assert [(p["name"], p["enabled"]) for p in r.json()] == [("reserve-drain-pause", False)]
        r = await c.post("/api/v1/response-policies/reserve-drain-pause/enable", headers=lead)
        assert r.status_code == 403  # policies.manage: security officer, operations manager
        r = await c.post("/api/v1/response-policies/nope/enable", headers=ops)
        assert r.status_code == 404 and "reserve-drain-pause" in r.json()["error"]["message"]
        r = await c.post("/api/v1/response-policies/reserve-drain-pause/enable", headers=ops)
        assert (
            r.status_code == 201 and r.json()["kind"] == "policy_enable" and r.json()["status"] == "proposed"
        )


async def test_dry_run_and_execute_through_the_api(
    rig_url: str, em_manifest: Manifest, tmp_path: Path, database_url: str
) -> None:
    async with api_rig(database_url, roles=["security_officer"], alerts=0) as api:
        keys = tmp_path / "keys"
        write_devnet_keystores(keys, {r: one(r).private_key for r in ("guardian", "proposer")})
        pool = RpcPool(network="devnet", urls=[rig_url], clock=api.clock, chain_id=em_manifest.chain_id)
        await pool.start()
        runner = ActionRunner(
            sessions=api.sessions, pool=pool, manifest=em_manifest, clock=api.clock,
            config=emergency_config(keys, tmp_path), data_dir=tmp_path, controls=MemoryControls(),
            registry=CollectorRegistry(),
        )  # fmt: skip
        api.app.state.emergency_runner = runner
        sec, c = api.auth("security_officer"), api.client
        try:
            r = await c.post("/api/v1/actions", json={"kind": "pause_all"}, headers=sec)
            action = r.json()
            assert action["status"] == "approved"
            url = f"/api/v1/actions/{action['id']}"
            r = await c.post(f"{url}/execute", headers=sec)
            assert r.status_code == 409 and "no dry run" in r.json()["error"]["message"]
            r = await c.post(f"{url}/dry-run", headers=sec)
            assert r.status_code == 200 and r.json()["ok"] and "AllPaused" in r.json()["summary"]
            r = await c.post(f"{url}/execute", json={"wait": True}, headers=sec)
            assert r.status_code == 200 and r.json()["status"] == "verified", r.text
            assert r.json()["txs"][0]["tx_hash"].startswith("0x")
        finally:
            await pool.aclose()


async def test_concurrent_execute_calls_start_it_once_the_others_hear_already_executing(
    rig_url: str, em_manifest: Manifest, tmp_path: Path, database_url: str
) -> None:
    async with api_rig(database_url, roles=["security_officer"], alerts=0) as api:
        keys = tmp_path / "keys"
        write_devnet_keystores(keys, {r: one(r).private_key for r in ("guardian", "proposer")})
        pool = RpcPool(network="devnet", urls=[rig_url], clock=api.clock, chain_id=em_manifest.chain_id)
        await pool.start()
        runner = ActionRunner(
            sessions=api.sessions, pool=pool, manifest=em_manifest, clock=api.clock,
            config=emergency_config(keys, tmp_path), data_dir=tmp_path, controls=MemoryControls(),
            registry=CollectorRegistry(),
        )  # fmt: skip
        await runner.check_signers()  # the key derivation is not part of the race
        api.app.state.emergency_runner = runner
        sec, c = api.auth("security_officer"), api.client
        try:
            action = (await c.post("/api/v1/actions", json={"kind": "pause_all"}, headers=sec)).json()
            url = f"/api/v1/actions/{action['id']}"
            assert (await c.post(f"{url}/dry-run", headers=sec)).status_code == 200
            calls = [c.post(f"{url}/execute", json={"wait": True}, headers=sec) for _ in range(5)]
            answers = await asyncio.gather(*calls)
            codes = sorted(r.status_code for r in answers)
            assert codes == [200, 409, 409, 409, 409], [r.text for r in answers]
            (won,) = [r for r in answers if r.status_code == 200]
            assert won.json()["status"] == "verified"
            for r in answers:
                if r.status_code == 409:
                    assert f"Action {action['id']} is already executing" in r.json()["error"]["message"]
            events = [e["kind"] for e in (await c.get(url, headers=sec)).json()["events"]]
            assert events.count("executing") == 1 and events.count("signed") == 1
        finally:
            await pool.aclose()
