"""The incidents API through the real app (httpx ASGI transport), as real users with real tokens: the whole
flow as a technical lead, permissions per role, media types of the report, and each refusal's status and
message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from api.rig import ApiRig, api_rig, username_of
from fictra.incidents.phases import OUTPUTS

BASE = "/api/v1/incidents"


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[ApiRig]:
    async with api_rig(
        database_url,
        roles=["technical_lead", "viewer", "first_level_support", "operations_manager"],
        alerts=2,
    ) as r:
        yield r


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return (
        response.json() if response.content and "json" in response.headers.get("content-type", "") else None
    )


async def test_full_flow_over_http(rig: ApiRig) -> None:
    lead = rig.auth("technical_lead")
    c = rig.client
    declared = await _ok(
        await c.post(
            BASE,
            headers=lead,
            json={
                "title": "Oracle GOLD deviates",
                "severity": "P1",
                "category": "oracle",
                "alert_ids": rig.alert_ids,
                "summary": "GOLD feed is 4% off its sources",
            },
        ),
        201,
    )
    iid = declared["id"]
    assert declared["phase"] == "detection" and declared["alert_ids"] == rig.alert_ids
    url = f"{BASE}/{iid}"
    refused = await c.post(f"{url}/advance", headers=lead, json={"to_phase": "response"})
    assert refused.status_code == 409
    assert refused.json()["error"]["message"].startswith(f"Incident {iid} cannot leave phase detection")
    manager = username_of("operations_manager")
    await _ok(await c.post(f"{url}/roles", headers=lead, json={"role": "commander", "username": manager}))
    view = await _ok(
        await c.post(
            f"{url}/roles",
            headers=lead,
            json={"role": "responder", "username": username_of("technical_lead")},
        )
    )
    assert view["commander"] == manager and "team_activation" not in view["missing"]
    sent = await _ok(
        await c.post(
            f"{url}/updates",
            headers=lead,
            json={
                "template": "initial",
                "groups": ["technical_team"],
                "fields": {"impact": "GOLD trades paused"},
            },
        )
    )
    assert sent["subject"] == f"[P1] Incident #{iid} declared: Oracle GOLD deviates"
    assert sent["deliveries"] == [
        {
            "group": "technical_team",
            "receiver": "ops-log",
            "channel": "log",
            "notification_id": sent["deliveries"][0]["notification_id"],
        }
    ]
    for key in ("triage", "impact_assessment"):
        await _ok(await c.post(f"{url}/outputs", headers=lead, json={"key": key, "text": f"{key} ok"}))
    for phase in ("response", "recovery", "post_incident"):
        view = await _ok(await c.post(f"{url}/advance", headers=lead, json={"to_phase": phase, "note": "go"}))
        for key in view["missing"]:
            if key not in ("corrective_actions", "report"):
                await _ok(
                    await c.post(f"{url}/outputs", headers=lead, json={"key": key, "text": f"{key} ok"})
                )
    task = await _ok(
        await c.post(
            f"{url}/tasks",
            headers=lead,
            json={
                "title": "Add a third source",
                "owner": manager,
                "due_at": (rig.clock.now() + timedelta(days=7)).isoformat(),
            },
        ),
        201,
    )
    patched = await _ok(await c.patch(f"{url}/tasks/{task['id']}", headers=lead, json={"status": "done"}))
    assert patched["status"] == "done"
    closing = await c.post(f"{url}/close", headers=lead, json={"note": "done"})
    assert closing.status_code == 409 and "report (Incident report): generate the report" in closing.text
    pdf = await c.post(f"{url}/report", headers=lead, params={"format": "pdf"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and 'filename="incident-' in pdf.headers["content-disposition"]
    closed = await _ok(await c.post(f"{url}/close", headers=lead, json={"note": "done"}))
    assert closed["status"] == "closed"
    detail = await _ok(await c.get(url, headers=rig.auth("viewer")))
    kinds = [t["kind"] for t in detail["timeline"]]
    assert (
        kinds.count("alert.fired") == 2
        and kinds[-1] == "incident.closed"
        and "incident.status_update" in kinds
    )
    assert all(o["status"] != "missing" for o in detail["outputs"]) and len(detail["outputs"]) == len(OUTPUTS)
    md = await c.get(f"{url}/report", headers=rig.auth("viewer"), params={"format": "md"})
    assert (
        md.headers["content-type"] == "text/markdown; charset=utf-8" and "## 7. Corrective actions" in md.text
    )
    html = await c.get(f"{url}/report", headers=rig.auth("viewer"), params={"format": "html"})
    assert html.headers["content-type"] == "text/html; charset=utf-8" and "<h1>Incident report" in html.text
    listed = await _ok(await c.get(BASE, headers=rig.auth("viewer"), params={"status": "closed"}))
    assert [i["id"] for i in listed] == [iid]
    timeline = await _ok(await c.get(f"{url}/timeline", headers=rig.auth("viewer")))
    assert timeline == detail["timeline"]


async def test_permissions_per_role(rig: ApiRig) -> None:
    c = rig.client
    body = {"title": "t", "severity": "P3", "category": "compliance"}
    for role in ("viewer", "first_level_support"):
        denied = await c.post(BASE, headers=rig.auth(role), json=body)
        assert denied.status_code == 403, role
    assert (await c.post(BASE, json=body)).status_code == 401
    iid = (await _ok(await c.post(BASE, headers=rig.auth("operations_manager"), json=body), 201))["id"]
    viewer = rig.auth("viewer")
    assert (await c.get(f"{BASE}/{iid}", headers=viewer)).status_code == 200
    assert (await c.post(f"{BASE}/{iid}/notes", headers=viewer, json={"text": "x"})).status_code == 403
    assert (
        await c.post(
            f"{BASE}/{iid}/updates", headers=viewer, json={"template": "status", "groups": ["regulators"]}
        )
    ).status_code == 403
    assert (await c.post(f"{BASE}/{iid}/report", headers=viewer)).status_code == 403


async def test_refusals(rig: ApiRig) -> None:
    c, lead = rig.client, rig.auth("technical_lead")
    missing = await c.get(f"{BASE}/999", headers=lead)
    assert missing.status_code == 404 and "No incident with id 999" in missing.text
    bad = await c.post(BASE, headers=lead, json={"title": "t", "severity": "P9", "category": "oracle"})
    assert bad.status_code == 422
    no_alert = await c.post(
        BASE, headers=lead, json={"title": "t", "severity": "P2", "category": "oracle", "alert_ids": [9999]}
    )
    assert no_alert.status_code == 404 and "No alert with id 9999" in no_alert.text
    iid = (
        await _ok(
            await c.post(BASE, headers=lead, json={"title": "t", "severity": "P2", "category": "oracle"}), 201
        )
    )["id"]
    same = await c.post(f"{BASE}/{iid}/classification", headers=lead, json={"severity": "P2"})
    assert same.status_code == 409 and "nothing to change" in same.text
    moved = await c.post(
        f"{BASE}/{iid}/classification", headers=lead, json={"severity": "P1", "reason": "wider"}
    )
    assert moved.status_code == 200 and moved.json()["severity"] == "P1"
    skip = await c.post(f"{BASE}/{iid}/advance", headers=lead, json={"to_phase": "recovery"})
    assert skip.status_code == 409 and "it can only advance to response" in skip.text
    naive = await c.post(
        f"{BASE}/{iid}/tasks",
        headers=lead,
        json={"title": "x", "owner": username_of("viewer"), "due_at": "2030-01-01T00:00:00"},
    )
    assert naive.status_code == 422 and "without a time zone" in naive.text
    evidence = await c.post(f"{BASE}/{iid}/evidence", headers=lead)
    assert evidence.status_code == 409 and "RPC pool" in evidence.text
    assert (await c.get(f"{BASE}/{iid}/evidence", headers=lead)).json() == []
    assert (await c.get(f"{BASE}/{iid}/evidence/5", headers=lead)).status_code == 404
    assert (await c.get(f"{BASE}/{iid}/report", headers=lead, params={"format": "docx"})).status_code == 422
    meeting = await c.post(
        f"{BASE}/{iid}/meetings",
        headers=lead,
        json={"starts_at": "2026-01-01T01:00:00Z", "bridge": "https://meet.test/x", "attendees": ["nobody"]},
    )
    assert meeting.status_code == 422 and "Unknown attendee 'nobody'" in meeting.text
    ok = await c.post(
        f"{BASE}/{iid}/meetings",
        headers=lead,
        json={
            "starts_at": "2026-01-01T01:00:00Z",
            "bridge": "https://meet.test/x",
            "attendees": ["market_participants", "regulators"],
        },
    )
    assert ok.status_code == 201 and ok.json()["attendees"] == ["market_participants", "regulators"]
    assert (await c.delete(f"{BASE}/{iid}/tasks/77", headers=lead)).status_code == 404
