"""The response API through the real app (AUTH tokens, API error shape), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from api.rig import api_rig
from fictra.audit.models import AuditEntry
from fictra.response.context import ResponseContext
from fictra.response.scheduled import tick

from .helpers import make_config

ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:1
SUMMARY:dave
DTSTART:20251231T000000Z
DTEND:20260102T000000Z
END:VEVENT
END:VCALENDAR
"""


async def _actions(rig) -> list[str]:
    async with rig.sessions() as session:
        return list((await session.execute(select(AuditEntry.action).order_by(AuditEntry.idx))).scalars())


async def test_escalate_snooze_assign_and_clocks(database_url) -> None:
    async with api_rig(database_url, roles=["admin", "viewer"], alerts=1) as rig:
        ctx = ResponseContext(config=make_config(), clock=rig.clock)
        rig.app.state.response_context = ctx
        [alert_id] = rig.alert_ids
        admin, c = rig.auth("admin"), rig.client
        r = await c.post(f"/api/v1/alerts/{alert_id}/escalate", json={"note": "looks bad"}, headers=admin)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["level_name"] == "first_level_support" and body["steps"][0]["people"] == ["alice"]
        assert body["clocks"]["acknowledge"]["state"] == "running"
        assert body["clocks"]["acknowledge"]["remaining_seconds"] == 3600.0  # P1
        r = await c.post(f"/api/v1/alerts/{alert_id}/escalate", headers=admin)
        assert r.json()["level_name"] == "technical_lead"
        r = await c.post(f"/api/v1/alerts/{alert_id}/snooze", json={"duration": "30m"}, headers=admin)
        assert r.status_code == 200 and r.json()["snoozed_until"].startswith("2026-01-01T00:30:00")
        r = await c.post(f"/api/v1/alerts/{alert_id}/snooze", json={"duration": "8d"}, headers=admin)
        assert r.status_code == 422 and "at most 7 days" in r.json()["error"]["message"]
        r = await c.post(f"/api/v1/alerts/{alert_id}/snooze", json={"duration": "soon"}, headers=admin)
        assert r.status_code == 422 and "not a duration" in r.json()["error"]["message"]
        r = await c.post(f"/api/v1/alerts/{alert_id}/assign", json={"assignee": "carol"}, headers=admin)
        assert r.status_code == 200 and r.json()["assignee"] == "carol"
        r = await c.post(f"/api/v1/alerts/{alert_id}/assign", json={"assignee": "carol"}, headers=admin)
        assert r.status_code == 409
        r = await c.post(f"/api/v1/alerts/{alert_id}/assign", json={"assignee": "ghost"}, headers=admin)
        assert r.status_code == 422 and "ghost" in r.json()["error"]["message"]
        r = await c.post("/api/v1/alerts/999999/escalate", headers=admin)
        assert r.status_code == 404
        r = await c.post(f"/api/v1/alerts/{alert_id}/escalate", headers=rig.auth("viewer"))
        assert r.status_code == 403
        r = await c.get(f"/api/v1/alerts/{alert_id}/response", headers=rig.auth("viewer"))
        assert r.status_code == 200 and [s["reason"] for s in r.json()["steps"]] == ["escalate_now"] * 2
        # the SLA deadline passes: the breach is recorded and reported
        rig.clock.advance(3 * 3600)
        async with rig.sessions.begin() as session:
            result = await tick(session, ctx)
        assert result.ack_breaches == [alert_id]
        r = await c.get("/api/v1/sla/breaches", headers=admin)
        assert r.json() == [{"severity": "P1", "team": "operations", "kind": "acknowledge", "count": 1}]
        r = await c.get(f"/api/v1/alerts/{alert_id}/response", headers=admin)
        assert r.json()["clocks"]["acknowledge"]["state"] == "breached"
        assert await _actions(rig) == [
            *[a for a in await _actions(rig) if a.startswith(("user.", "token."))],
            "alert.escalate",
            "alert.escalate",
            "alert.snooze",
            "alert.assign",
        ]


async def test_silences_and_oncall_over_http(database_url) -> None:
    async with api_rig(database_url, roles=["admin", "viewer"], alerts=0) as rig:
        rig.app.state.response_context = ResponseContext(config=make_config(), clock=rig.clock)
        admin, c = rig.auth("admin"), rig.client
        end = (rig.clock.now() + timedelta(hours=2)).isoformat()
        r = await c.post(
            "/api/v1/silences",
            json={"matchers": ['monitor="x"'], "ends_at": end, "comment": "deploy"},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        silence = r.json()
        assert silence["state"] == "active" and silence["created_by"] == "u-admin"
        r = await c.post(
            "/api/v1/silences", json={"matchers": ["x"], "ends_at": end, "comment": "deploy"}, headers=admin
        )
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"
        r = await c.post(
            "/api/v1/silences",
            json={"matchers": ["a=b"], "ends_at": end, "comment": "x"},
            headers=rig.auth("viewer"),
        )
        assert r.status_code == 403
        assert [s["id"] for s in (await c.get("/api/v1/silences", headers=rig.auth("viewer"))).json()] == [
            silence["id"]
        ]
        r = await c.delete(f"/api/v1/silences/{silence['id']}", headers=admin)
        assert r.status_code == 200 and r.json()["state"] == "expired"
        assert (await c.get("/api/v1/silences", headers=admin)).json() == []
        assert len((await c.get("/api/v1/silences?expired=true", headers=admin)).json()) == 1

        r = await c.get("/api/v1/oncall", headers=rig.auth("viewer"))
        [first] = r.json()
        assert first["schedule"] == "first-line" and [s["person"] for s in first["now"]] == ["alice"]
        r = await c.post(
            "/api/v1/oncall/overrides",
            json={
                "schedule": "first-line",
                "person": "bob",
                "starts_at": rig.clock.now().isoformat(),
                "ends_at": end,
            },
            headers=admin,
        )
        assert r.status_code == 200, r.text
        [first] = (await c.get("/api/v1/oncall?schedule=first-line", headers=admin)).json()
        assert [s["person"] for s in first["now"]] == ["bob"] and [s["person"] for s in first["next"]] == [
            "alice"
        ]
        r = await c.post("/api/v1/oncall/first-line/ical", content=ICS, headers=admin)
        assert r.status_code == 200 and [s["person"] for s in r.json()] == ["dave"]
        [first] = (await c.get("/api/v1/oncall", headers=admin)).json()
        assert sorted(s["person"] for s in first["now"]) == ["bob", "dave"]
        r = await c.post("/api/v1/oncall/first-line/ical", content=b"junk", headers=admin)
        assert r.status_code == 422 and "not an iCalendar file" in r.json()["error"]["message"]
        r = await c.get("/api/v1/oncall?schedule=nope", headers=admin)
        assert r.status_code == 404
        r = await c.get("/api/v1/escalation-policies", headers=admin)
        assert r.json()["policies"][0]["levels"][0]["name"] == "first_level_support"
        actions = await _actions(rig)
        assert [a for a in actions if not a.startswith(("user.", "token."))] == [
            "silence.create",
            "silence.expire",
            "oncall.override",
            "oncall.import",
        ]


async def test_bad_requests_name_the_problem(database_url) -> None:
    async with api_rig(database_url, roles=["admin"], alerts=0) as rig:
        rig.app.state.response_context = ResponseContext(config=make_config(), clock=rig.clock)
        admin, c = rig.auth("admin"), rig.client
        r = await c.post(
            "/api/v1/silences",
            json={"matchers": ["a=b"], "ends_at": "2026-01-01T03:00:00", "comment": "x"},
            headers=admin,
        )
        assert r.status_code == 422 and "without a time zone" in r.json()["error"]["message"]
        later = (rig.clock.now() + timedelta(hours=1)).isoformat()
        body = {
            "schedule": "nope",
            "person": "bob",
            "starts_at": rig.clock.now().isoformat(),
            "ends_at": later,
        }
        r = await c.post("/api/v1/oncall/overrides", json=body, headers=admin)
        assert r.status_code == 404 and "No on-call schedule 'nope'" in r.json()["error"]["message"]
        r = await c.post(
            "/api/v1/oncall/overrides",
            json={**body, "schedule": "first-line", "person": "zed"},
            headers=admin,
        )
        assert r.status_code == 422 and "Person 'zed'" in r.json()["error"]["message"]
        r = await c.delete("/api/v1/silences/424242", headers=admin)
        assert r.status_code == 404
        r = await c.get("/api/v1/alerts/424242/response", headers=admin)
        assert r.status_code == 404 and "no response record" in r.json()["error"]["message"]
        r = await c.get("/api/v1/sla/breaches?since=2026-01-01T00:00:00", headers=admin)
        assert r.status_code == 422 and "'since'" in r.json()["error"]["message"]
