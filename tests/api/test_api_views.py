"""The API's contract through real requests: one error shape with a request id everywhere, domain errors
mapped to 404/409/403/401/422, unexpected errors to 500 (traceback logged, not sent), alert filters,
networks and monitors."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from fictra.alerting.findings import Severity
from fictra.alerting.service import apply_findings
from fictra.db.engine import migrate

from .rig import api_rig, finding


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'views.db'}"
    migrate(url)
    return url


def error_of(response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "request_id"}
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response.headers["x-request-id"]
    return str(body["error"]["message"])


async def test_error_shape_for_every_kind_of_error(sqlite_url: str) -> None:
    async with api_rig(sqlite_url, roles=["admin", "viewer"], alerts=1) as rig:
        c, admin, viewer = rig.client, rig.auth("admin"), rig.auth("viewer")
        assert "Sign in first" in error_of(await c.get("/api/v1/alerts"), 401, "unauthorized")
        bad_token = {"Authorization": "Bearer nope"}
        assert "unknown, expired or revoked" in error_of(
            await c.get("/api/v1/alerts", headers=bad_token), 401, "unauthorized"
        )
        ack = f"/api/v1/alerts/{rig.alert_ids[0]}/acknowledge"
        assert "lacks the permission 'alerts.acknowledge'" in error_of(
            await c.post(ack, headers=viewer), 403, "forbidden"
        )
        assert "No alert with id 4242" in error_of(
            await c.post("/api/v1/alerts/4242/acknowledge", headers=admin), 404, "not_found"
        )
        assert (await c.post(ack, headers=admin)).status_code == 200
        assert "already acknowledged" in error_of(await c.post(ack, headers=admin), 409, "conflict")
        message = error_of(await c.get("/api/v1/alerts?severity=P9", headers=admin), 422, "invalid")
        assert "severity" in message
        message = error_of(
            await c.post(f"/api/v1/alerts/{rig.alert_ids[0]}/notes", headers=admin, json={}), 422, "invalid"
        )
        assert "text" in message
        assert "not key=value" in error_of(
            await c.get("/api/v1/alerts?label=feed", headers=admin), 422, "invalid"
        )
        assert "without a time zone" in error_of(
            await c.get("/api/v1/alerts?since=2026-01-01T00:00:00", headers=admin), 422, "invalid"
        )
        error_of(await c.get("/api/v1/nothing-here", headers=admin), 404, "not_found")
        error_of(await c.put("/api/v1/alerts", headers=admin), 405, "invalid")
        assert "No network named 'mainnet'" in error_of(
            await c.get("/api/v1/networks/mainnet", headers=admin), 404, "not_found"
        )
        assert "No monitor or rule named" in error_of(
            await c.get("/api/v1/monitors/nope", headers=admin), 404, "not_found"
        )


async def test_request_id_is_echoed_or_made_up(sqlite_url: str) -> None:
    async with api_rig(sqlite_url, roles=[], alerts=0) as rig:
        mine = await rig.client.get("/healthz", headers={"X-Request-ID": "trace-42.a_b"})
        assert mine.headers["x-request-id"] == "trace-42.a_b"
        hostile = await rig.client.get("/healthz", headers={"X-Request-ID": "x" * 65})
        made_up = hostile.headers["x-request-id"]
        assert made_up != "x" * 65 and len(made_up) == 32
        other = await rig.client.get("/healthz")
        assert other.headers["x-request-id"] not in (made_up, "")


async def test_unexpected_error_is_500_with_request_id_and_logged(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with api_rig(sqlite_url, roles=["admin"], alerts=0) as rig:

        def broken() -> dict[str, object]:
            raise RuntimeError("password=hunter2 leaked into an exception")

        rig.context.status = broken
        with caplog.at_level(logging.ERROR, logger="fictra.api.errors"):
            response = await rig.client.get("/api/v1/status", headers=rig.auth("admin"))
        message = error_of(response, 500, "internal")
        rid = response.headers["x-request-id"]
        assert rid in message and "hunter2" not in response.text
        (record,) = [r for r in caplog.records if rid in r.getMessage()]
        logged = record.getMessage()
        assert "Traceback" in logged and "RuntimeError: password=*** leaked" in logged
        assert "hunter2" not in caplog.text


def test_scrub_hides_credentials() -> None:
    from fictra.api.errors import scrub

    text = scrub("postgresql://ops:s3cret@db:5432/x token=abc123 Authorization: Bearer fictra_XYZ api_key: k")
    assert "s3cret" not in text and "abc123" not in text and "fictra_XYZ" not in text and " k" not in text
    assert "postgresql://***:***@db:5432/x" in text


async def test_alert_list_filters_and_detail(sqlite_url: str) -> None:
    async with api_rig(sqlite_url, roles=["executive"], alerts=0) as rig:
        async with rig.sessions.begin() as db:
            await apply_findings(
                db, [finding(1, Severity.P0), finding(2, Severity.P2)], head=300, clock=rig.clock
            )
        rig.clock.advance(3600)
        async with rig.sessions.begin() as db:
            await apply_findings(db, [finding(3, Severity.P2, network="testnet")], head=300, clock=rig.clock)
        c, h = rig.client, rig.auth("executive")

        async def ids(query: str) -> list[int]:
            response = await c.get(f"/api/v1/alerts{query}", headers=h)
            assert response.status_code == 200, response.text
            return [a["labels"]["case"] for a in response.json()["items"]]

        assert await ids("") == ["3", "2", "1"]
        assert await ids("?severity=P0") == ["1"]
        assert await ids("?severity=P0&severity=P2") == ["3", "2", "1"]
        assert await ids("?label=case=2") == ["2"]
        assert await ids("?label=case=2&label=feed=GOLD") == ["2"]
        assert await ids("?label=case=9") == []
        assert await ids("?network=testnet") == ["3"]
        assert await ids("?status=resolved") == []
        assert await ids("?confirmation=confirmed&status=firing") == ["3", "2", "1"]
        later = (rig.clock.now() - timedelta(minutes=1)).isoformat()
        assert await ids(f"?since={later.replace('+00:00', 'Z')}") == ["3"]
        assert await ids(f"?until={later.replace('+00:00', 'Z')}") == ["2", "1"]
        page = (await c.get("/api/v1/alerts?limit=2", headers=h)).json()
        assert (len(page["items"]), page["next_offset"]) == (2, 2)
        rest = (await c.get("/api/v1/alerts?limit=2&offset=2", headers=h)).json()
        assert [a["labels"]["case"] for a in rest["items"]] == ["1"] and rest["next_offset"] is None
        first = page["items"][0]
        detail = (await c.get(f"/api/v1/alerts/{first['id']}", headers=h)).json()
        assert detail["events"][0]["kind"] == "fired" and detail["history"]
        by_prefix = (await c.get(f"/api/v1/alerts/{first['fingerprint'][:8]}", headers=h)).json()
        assert by_prefix["id"] == first["id"]


async def test_acknowledge_resolve_note_over_http_with_timeline(sqlite_url: str) -> None:
    async with api_rig(sqlite_url, roles=["technical_lead", "first_level_support"], alerts=1) as rig:
        c, alert_id = rig.client, rig.alert_ids[0]
        support = rig.auth("first_level_support")
        acked = await c.post(
            f"/api/v1/alerts/{alert_id}/acknowledge", headers=support, json={"note": "on it"}
        )
        assert acked.status_code == 200 and acked.json()["acknowledged_by"] == "u-first-level-support"
        assert (await c.post(f"/api/v1/alerts/{alert_id}/resolve", headers=support)).status_code == 403
        noted = await c.post(f"/api/v1/alerts/{alert_id}/notes", headers=support, json={"text": "feed back"})
        assert noted.status_code == 200
        done = await c.post(f"/api/v1/alerts/{alert_id}/resolve", headers=rig.auth("technical_lead"))
        assert done.status_code == 200 and done.json()["status"] == "resolved"
        assert [e["kind"] for e in done.json()["events"]] == ["fired", "acknowledged", "note", "resolved"]


async def test_networks_and_monitors(sqlite_url: str) -> None:
    async with api_rig(sqlite_url, roles=["viewer"], alerts=2) as rig:
        c, h = rig.client, rig.auth("viewer")
        (net,) = (await c.get("/api/v1/networks", headers=h)).json()
        assert (net["name"], net["chain_id"], net["live"], net["head"], net["lag"]) == (
            "devnet",
            31337,
            True,
            120,
            2,
        )
        assert net["endpoints"][0]["name"] == "local" and net["endpoints"][0]["state"] == "healthy"
        rig.status.clear()  # the follower is not running: the network is still listed, not live
        idle = (await c.get("/api/v1/networks/devnet", headers=h)).json()
        assert (idle["live"], idle["head"], idle["endpoints"]) == (False, None, [])
        monitors = (await c.get("/api/v1/monitors", headers=h)).json()
        assert {m["type"] for m in monitors} >= {"oracle", "node_health", "event_rule"}
        one = (await c.get(f"/api/v1/monitors/{monitors[0]['name']}", headers=h)).json()
        assert one["config"]["name"] == monitors[0]["name"]


async def test_openapi_documents_permissions_and_error_shape(sqlite_url: str) -> None:
    async with api_rig(sqlite_url, roles=[], alerts=0) as rig:
        schema = (await rig.client.get("/api/openapi.json")).json()
        op = schema["paths"]["/api/v1/alerts/{alert_id}/acknowledge"]["post"]
        assert op["x-permission"] == "alerts.acknowledge"
        for status in ("401", "403", "404", "409", "422"):
            assert op["responses"][status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorResponse"
            }
        assert "HTTPValidationError" not in schema["components"]["schemas"]
        assert "x-permission" not in schema["paths"]["/healthz"]["get"]


async def test_series_over_http(sqlite_url: str) -> None:
    from fictra.chain.types import Block, BlockBatch
    from fictra.series.recorder import SeriesRecorder

    async with api_rig(sqlite_url, roles=["viewer"], alerts=0) as rig:
        t0 = int(rig.clock.now().timestamp())
        blocks = tuple(
            Block(n, f"0x{n:064x}", f"0x{n - 1:064x}", t0 + 2 * n, 10, 100, None, "0x", ()) for n in range(30)
        )
        async with rig.sessions.begin() as db:
            await SeriesRecorder(network="devnet").on_batch(
                BlockBatch("devnet", blocks, head=29, at_head=True), db
            )
        c, h = rig.client, rig.auth("viewer")
        names = (await c.get("/api/v1/series", headers=h)).json()
        assert names == {
            "network": "devnet",
            "names": ["block_interval_s", "gas_used_ratio", "tx_count", "tx_reverted"],
        }
        data = (
            await c.get(f"/api/v1/series/gas_used_ratio?from={t0}&to={t0 + 60}&step=20", headers=h)
        ).json()
        assert (data["start"], data["end"], data["step"]) == (t0, t0 + 60, 20)
        assert [(p["t"] - t0, p["count"], round(p["avg"], 9)) for p in data["points"]] == [
            (0, 10, 0.1),
            (20, 10, 0.1),
            (40, 10, 0.1),
        ]
        rig.clock.advance(60)
        default = (await c.get("/api/v1/series/block_interval_s", headers=h)).json()  # the last hour
        assert default["end"] - default["start"] == 3600 and sum(p["count"] for p in default["points"]) == 29
        iso = (
            await c.get(
                "/api/v1/series/tx_count?from=2026-01-01T00:00:00Z&to=2026-01-01T00:01:00Z&step=60", headers=h
            )
        ).json()
        assert iso["points"][0]["count"] == 30
        assert "range is empty" in error_of(
            await c.get(f"/api/v1/series/tx_count?from={t0}&to={t0}", headers=h), 422, "invalid"
        )
        assert "at most 5000" in error_of(
            await c.get(f"/api/v1/series/tx_count?from={t0}&to={t0 + 86400}&step=1", headers=h),
            422,
            "invalid",
        )
        assert "without a time zone" in error_of(
            await c.get("/api/v1/series/tx_count?from=2026-01-01T00:00:00", headers=h), 422, "invalid"
        )
        assert (await c.get("/api/v1/series/nothing", headers=h)).json()["points"] == []


def test_optional_router_absent_is_skipped_but_a_broken_one_raises(tmp_path, monkeypatch) -> None:
    from fictra.api.app import _router
    from fictra.api.deps import guarded

    assert _router("fictra_absent_domain.views", optional=True) is None
    with pytest.raises(ModuleNotFoundError):
        _router("fictra_absent_domain.views", optional=False)
    package = tmp_path / "fictra_broken_domain"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "views.py").write_text("import fictra_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="fictra_no_such_dependency"):
        _router("fictra_broken_domain.views", optional=True)
    with pytest.raises(ValueError, match=r"Unknown permission 'alerts\.delete'"):
        guarded("alerts.delete")


async def test_session_actions_need_the_csrf_token(sqlite_url: str) -> None:
    async with api_rig(sqlite_url, roles=["technical_lead"], alerts=1) as rig:
        headers = await rig.session_headers("technical_lead")
        url = f"/api/v1/alerts/{rig.alert_ids[0]}/acknowledge"
        without = {k: v for k, v in headers.items() if k != "X-CSRF-Token"}
        assert "CSRF" in error_of(await rig.client.post(url, headers=without), 403, "forbidden")
        forged = {**headers, "X-CSRF-Token": "forged"}
        assert "CSRF" in error_of(await rig.client.post(url, headers=forged), 403, "forbidden")
        assert (await rig.client.get("/api/v1/alerts", headers=without)).status_code == 200  # safe method
        done = await rig.client.post(url, headers=headers)
        assert done.status_code == 200 and done.json()["acknowledged_by"] == "u-technical-lead"
