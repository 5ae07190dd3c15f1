"""The procedures API through the real app (real users and tokens, real database: SQLite and PostgreSQL):
today's list, runs, one run with its evidence and hashes, sign-off allowed and refused by the step's roles,
and running a procedure now (409 without a running platform, as actions without a runner)."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

from api.rig import ApiRig, api_rig
from fictra.audit.canonical import dumps
from fictra.audit.service import list_entries
from fictra.procedures.jobs import ProceduresContext, run_due
from fictra.procedures.models import Outcome

from .helpers import AlertIngest, StaticChain, follower, shipped

ROLES = ["technical_lead", "first_level_support", "viewer", "operations_manager"]


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[ApiRig]:
    async with api_rig(database_url, roles=ROLES, alerts=0) as r:
        r.context.config = dataclasses.replace(r.context.config_set, procedures=shipped())
        r.clock.advance(8.5 * 3600)  # 2026-01-01 08:30 UTC: daily-health (08:00) is due
        yield r


def _ctx(rig: ApiRig) -> ProceduresContext:
    return ProceduresContext(
        config=shipped(),
        clock=rig.clock,
        chain=StaticChain(rig.clock),
        follower_status=follower,
        ingest=AlertIngest(rig.clock),
    )


async def _health_run(rig: ApiRig) -> int:
    ctx = _ctx(rig)
    proc = ctx.config.get("daily-health")
    assert proc is not None
    due = rig.clock.now().replace(hour=8, minute=0)
    return await run_due(sessions=rig.sessions, ctx=ctx, procedure=proc, due_at=due)


async def test_today_lists_every_procedure_with_its_state(rig: ApiRig) -> None:
    before = await rig.client.get("/api/v1/procedures", headers=rig.auth("viewer"))
    assert before.status_code == 200, before.text
    states = {p["name"]: p["state"] for p in before.json()}
    assert set(states) == {p.name for p in shipped().procedures}
    assert states["daily-health"] == "due"  # 08:00 due, within its 4 h grace, no run yet

    run_id = await _health_run(rig)
    after = (await rig.client.get("/api/v1/procedures", headers=rig.auth("viewer"))).json()
    health = next(p for p in after if p["name"] == "daily-health")
    assert health["state"] == "running"  # automated steps passed, the manual review is pending
    assert health["run"]["id"] == run_id and health["latest_run"]["id"] == run_id
    assert health["due_at"].startswith("2026-01-01T08:00")
    assert after[0]["state"] in ("running", "due")  # overdue, running and due first

    rig.clock.advance(4 * 3600)  # past the grace: overdue until the grace job marks it missed
    late = (await rig.client.get("/api/v1/procedures", headers=rig.auth("viewer"))).json()
    assert next(p for p in late if p["name"] == "daily-health")["state"] == "overdue"
    assert late[0]["name"] == "daily-health"

    runs = await rig.client.get("/api/v1/procedures/runs?procedure=daily-health", headers=rig.auth("viewer"))
    assert [(r["id"], r["outcome"], r["overdue"]) for r in runs.json()] == [(run_id, "open", True)]
    monthly = "/api/v1/procedures/runs?procedure=monthly-review"
    other = await rig.client.get(monthly, headers=rig.auth("viewer"))
    assert other.json() == []


async def test_run_detail_shows_evidence_and_its_hash(rig: ApiRig) -> None:
    run_id = await _health_run(rig)
    got = await rig.client.get(f"/api/v1/procedures/runs/{run_id}", headers=rig.auth("viewer"))
    assert got.status_code == 200, got.text
    run = got.json()
    assert run["procedure"] == "daily-health" and run["outcome"] == "open"
    steps = run["steps"]
    assert [s["name"] for s in steps][:2] == ["alerts", "endpoints"]
    assert [s["position"] for s in steps] == list(range(len(steps)))
    endpoints = steps[1]
    assert endpoints["result"] == "passed" and endpoints["evidence"]["ok"] is True
    assert endpoints["evidence_sha256"] == hashlib.sha256(dumps(endpoints["evidence"]).encode()).hexdigest()
    review = steps[-1]
    assert review["kind"] == "manual" and review["result"] == "pending" and review["evidence_sha256"] is None
    assert "technical_lead" in review["signoff_roles"] and review["instruction"]
    missing = await rig.client.get("/api/v1/procedures/runs/999999", headers=rig.auth("viewer"))
    assert missing.status_code == 404 and "999999" in missing.json()["error"]["message"]


async def test_signoff_allowed_by_the_steps_role_and_refused_otherwise(rig: ApiRig) -> None:
    run_id = await _health_run(rig)
    review = len(shipped().procedures[0].steps) - 1
    url = f"/api/v1/procedures/runs/{run_id}/steps/{review}/signoff"

    viewer = await rig.client.post(url, json={"note": "x"}, headers=rig.auth("viewer"))
    assert viewer.status_code == 403  # no procedures.signoff at all
    support = await rig.client.post(url, json={"note": "x"}, headers=rig.auth("first_level_support"))
    assert support.status_code == 403, support.text  # holds procedures.signoff, not one of the step's roles
    message = support.json()["error"]["message"]
    assert "may not sign off step 'review'" in message and "technical_lead" in message
    automated = await rig.client.post(
        f"/api/v1/procedures/runs/{run_id}/steps/1/signoff", json={}, headers=rig.auth("technical_lead")
    )
    assert automated.status_code == 422 and "not manual" in automated.json()["error"]["message"]

    done = await rig.client.post(url, json={"note": "All green."}, headers=rig.auth("technical_lead"))
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["outcome"] == Outcome.COMPLETED.value
    step = body["steps"][review]
    assert (step["result"], step["signed_by"], step["note"]) == ("signed", "u-technical-lead", "All green.")
    assert step["evidence_sha256"] == hashlib.sha256(dumps(step["evidence"]).encode()).hexdigest()
    async with rig.sessions() as session:
        entries = await list_entries(session, action="procedure.step.signoff")
    assert [(e.actor, e.target) for e in entries] == [("u-technical-lead", f"procedure_run:{run_id}")]

    again = await rig.client.post(url, json={"note": "again"}, headers=rig.auth("technical_lead"))
    assert again.status_code == 409 and "completed" in again.json()["error"]["message"]


async def test_run_now_needs_the_running_platform(rig: ApiRig) -> None:
    url = "/api/v1/procedures/daily-health/run"
    refused = await rig.client.post(url, headers=rig.auth("technical_lead"))
    assert refused.status_code == 409 and "running platform" in refused.json()["error"]["message"]
    viewer = await rig.client.post(url, headers=rig.auth("viewer"))
    assert viewer.status_code == 403
    unknown = await rig.client.post("/api/v1/procedures/nope/run", headers=rig.auth("technical_lead"))
    assert unknown.status_code == 404  # the name is checked first, with or without a platform

    rig.context.platform = cast(Any, SimpleNamespace(procedures=_ctx(rig)))
    started = await rig.client.post(url, headers=rig.auth("technical_lead"))
    assert started.status_code == 200, started.text
    run = started.json()
    assert run["due_at"].startswith("2026-01-01T08:00")
    assert [s["result"] for s in run["steps"]][:6] == ["passed"] * 6
    async with rig.sessions() as session:
        opened = await list_entries(session, action="procedure.run.open")
    assert [e.actor for e in opened] == ["u-technical-lead"]  # who started it is on record
    unknown = await rig.client.post("/api/v1/procedures/nope/run", headers=rig.auth("technical_lead"))
    assert unknown.status_code == 404 and "daily-health" in unknown.json()["error"]["message"]
