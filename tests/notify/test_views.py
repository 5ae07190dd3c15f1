"""The notifications API and the inbound endpoints through the real app (real auth, real database)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from api.rig import ApiRig, api_rig
from fictra.alerting.models import Alert
from fictra.audit.models import AuditEntry
from fictra.db.engine import migrate
from fictra.notify.inbound import label_set_fingerprint
from fictra.notify.models import Notification, NotificationStatus
from fictra.notify.service import enqueue

from .helpers import message

ROLES = ["admin", "first_level_support", "technical_lead", "viewer"]


@pytest.fixture(scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ApiRig]:
    """One app for the module (users with argon2 passwords are slow to make); each test uses its own
    alert names and notification keys. The store and outbox are tested on both backends elsewhere."""
    url = f"sqlite:///{tmp_path_factory.mktemp('notify-api') / 'api.db'}"
    migrate(url)
    async with api_rig(url, roles=ROLES, alerts=0) as r:
        yield r


def am_alert(
    name: str, status: str = "firing", starts: str = "2026-01-01T00:00:00Z", **labels: str
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": name, "instance": "node-1:9100", "job": "node", **labels},
        "annotations": {"summary": f"{name} on node-1", "runbook": "https://wiki/x"},
        "startsAt": starts,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
        "fingerprint": "c0ffee",
    }


def am_payload(*alerts: dict[str, Any], status: str = "firing") -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="NodeDown"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "fictra",
        "groupLabels": {"alertname": "NodeDown"},
        "commonLabels": {"job": "node"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


async def _alerts(rig: ApiRig, *names: str) -> list[Alert]:
    monitors = [f"alertmanager/{n}" for n in names] + [f"custody/{n}" for n in names]
    async with rig.sessions() as s:
        return list(await s.scalars(select(Alert).where(Alert.monitor.in_(monitors)).order_by(Alert.id)))


async def test_alertmanager_payload_creates_dedups_and_resolves(rig: ApiRig) -> None:
    url = "/api/v1/inbound/alertmanager"
    first = am_payload(am_alert("NodeDown", severity="critical"), am_alert("DiskFull", severity="warning"))
    r = await rig.client.post(url, json=first, headers=rig.auth("admin"))
    assert r.status_code == 200, r.text
    assert r.json() | {"alert_ids": []} == {
        "accepted": 2,
        "fired": 2,
        "updated": 0,
        "resolved": 0,
        "alert_ids": [],
    }
    node, disk = await _alerts(rig, "NodeDown", "DiskFull")
    assert (node.monitor, node.severity, node.network) == ("alertmanager/NodeDown", "P0", "external")
    assert node.summary == "NodeDown on node-1"
    # every label verbatim, the severity label too; the identity is Alertmanager's fingerprint
    assert node.labels == {
        "alertname": "NodeDown",
        "instance": "node-1:9100",
        "job": "node",
        "severity": "critical",
    }
    assert node.fingerprint == label_set_fingerprint(node.labels)
    assert node.evidence["generator_url"] == "http://prometheus:9090/graph?g0.expr=up"
    assert node.evidence["runbook"] == "https://wiki/x" and node.evidence["source"] == "alertmanager"
    assert node.evidence["starts_at"] == "2026-01-01T00:00:00+00:00"
    assert disk.severity == "P2"

    rig.clock.advance(60)
    again = await rig.client.post(
        url, json=am_payload(am_alert("NodeDown", severity="critical")), headers=rig.auth("admin")
    )
    assert again.json()["updated"] == 1 and again.json()["fired"] == 0
    node, _ = await _alerts(rig, "NodeDown", "DiskFull")
    assert node.count == 1 and node.status == "firing"  # the same startsAt: the same occurrence
    later = am_payload(am_alert("NodeDown", starts="2026-01-01T00:30:00Z", severity="critical"))
    assert (await rig.client.post(url, json=later, headers=rig.auth("admin"))).json()["updated"] == 1
    node, _ = await _alerts(rig, "NodeDown", "DiskFull")
    assert node.count == 2 and node.status == "firing"  # a new startsAt: a second occurrence

    rig.clock.advance(60)
    done = am_payload(am_alert("NodeDown", status="resolved", severity="critical"), status="resolved")
    resolved = await rig.client.post(url, json=done, headers=rig.auth("admin"))
    assert resolved.json()["resolved"] == 1
    node, disk = await _alerts(rig, "NodeDown", "DiskFull")
    assert node.status == "resolved" and disk.status == "firing"
    assert len(await _alerts(rig, "NodeDown", "DiskFull")) == 2  # never a new alert for a repeat


async def test_network_label_and_severity_mapping(rig: ApiRig) -> None:
    payload = am_payload(
        am_alert("SA", severity="P1", network="mainnet"), am_alert("SB", severity="page"), am_alert("SC"),
        am_alert("SD", severity="info"), am_alert("SE", severity="ERROR"),
    )  # fmt: skip
    r = await rig.client.post("/api/v1/inbound/alertmanager", json=payload, headers=rig.auth("admin"))
    assert r.status_code == 200
    got = {
        a.monitor.split("/")[1]: (a.severity, a.network)
        for a in await _alerts(rig, "SA", "SB", "SC", "SD", "SE")
    }
    assert got == {
        "SA": ("P1", "mainnet"), "SB": ("P0", "external"), "SC": ("P2", "external"),
        "SD": ("P3", "external"), "SE": ("P1", "external"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("payload", "needle"),
    [
        ({"version": "2", "status": "firing", "alerts": []}, "version"),
        ({"version": "4", "status": "exploded", "alerts": []}, "status"),
        ({"version": "4", "status": "firing"}, "alerts"),
        (
            {"version": "4", "status": "firing", "alerts": [{"status": "firing", "labels": {"a": 1}}]},
            "labels",
        ),
    ],
)
async def test_bad_alertmanager_payloads_are_422_with_the_key(
    rig: ApiRig, payload: dict[str, Any], needle: str
) -> None:
    r = await rig.client.post("/api/v1/inbound/alertmanager", json=payload, headers=rig.auth("admin"))
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid" and needle in r.json()["error"]["message"]
    assert await _alerts(rig, "1", "unnamed") == []


async def test_generic_alerts_fire_and_resolve(rig: ApiRig) -> None:
    alert = {"name": "custody-check", "severity": "P1", "summary": "Custodian report late"}
    alert |= {"labels": {"custodian": "acme"}, "evidence": {"late_by": "2h"}, "source": "custody"}
    body = {"alerts": [alert]}
    r = await rig.client.post("/api/v1/inbound/alerts", json=body, headers=rig.auth("admin"))
    assert r.status_code == 200 and r.json()["fired"] == 1
    [a] = await _alerts(rig, "custody-check")
    assert (a.monitor, a.severity, a.summary) == ("custody/custody-check", "P1", "Custodian report late")
    assert a.evidence == {"source": "custody", "severity": "P1", "late_by": "2h"}
    body["alerts"][0]["status"] = "resolved"
    r = await rig.client.post("/api/v1/inbound/alerts", json=body, headers=rig.auth("admin"))
    assert r.json()["resolved"] == 1
    [a] = await _alerts(rig, "custody-check")
    assert a.status == "resolved"
    bad = await rig.client.post("/api/v1/inbound/alerts", json={"alerts": [{"name": "x", "oops": 1}]},
                                headers=rig.auth("admin"))  # fmt: skip
    assert bad.status_code == 422 and "oops" in bad.json()["error"]["message"]


async def test_version_3_payloads_and_generic_critical_are_accepted(rig: ApiRig) -> None:
    v3 = am_payload(am_alert("OldAM", severity="warning")) | {"version": "3"}
    v3.pop("truncatedAlerts")
    r = await rig.client.post("/api/v1/inbound/alertmanager", json=v3, headers=rig.auth("admin"))
    assert r.status_code == 200 and r.json()["fired"] == 1, r.text
    body = {"alerts": [{"name": "vault-sealed", "severity": "critical", "source": "custody"}]}
    r = await rig.client.post("/api/v1/inbound/alerts", json=body, headers=rig.auth("admin"))
    assert r.status_code == 200 and r.json()["fired"] == 1, r.text
    [a] = await _alerts(rig, "vault-sealed")
    assert a.severity == "P0" and a.evidence["severity"] == "critical"
    body["alerts"][0]["severity"] = "apocalyptic"
    bad = await rig.client.post("/api/v1/inbound/alerts", json=body, headers=rig.auth("admin"))
    assert bad.status_code in (400, 422) and "alerts[0].severity 'apocalyptic'" in bad.text


async def test_inbound_needs_inbound_write(rig: ApiRig) -> None:
    payload = am_payload(am_alert("Forbidden"))
    assert (await rig.client.post("/api/v1/inbound/alertmanager", json=payload)).status_code == 401
    r = await rig.client.post(
        "/api/v1/inbound/alertmanager", json=payload, headers=rig.auth("technical_lead")
    )
    assert r.status_code == 403
    assert (await rig.client.post("/api/v1/inbound/alerts", json={"alerts": [{"name": "Forbidden"}]},
                                  headers=rig.auth("viewer"))).status_code == 403  # fmt: skip
    assert await _alerts(rig, "Forbidden") == []


async def _dead(rig: ApiRig, key: str) -> int:
    async with rig.sessions.begin() as s:
        nid = await enqueue(
            s, receiver="ops", channel="log", message=message(), idempotency_key=key, clock=rig.clock
        )
        assert nid is not None
        row = await s.get(Notification, nid)
        assert row is not None
        row.status, row.attempts, row.last_error = NotificationStatus.DEAD.value, 8, "HTTP 500"
    return nid


async def test_dead_letters_listed_and_retried_with_permissions(rig: ApiRig) -> None:
    dead = await _dead(rig, "dead-1")
    async with rig.sessions.begin() as s:
        await enqueue(
            s, receiver="ops", channel="log", message=message(), idempotency_key="p-1", clock=rig.clock
        )
    listing = await rig.client.get(
        "/api/v1/notifications?status=dead", headers=rig.auth("first_level_support")
    )
    assert listing.status_code == 200
    page = listing.json()
    assert dead in [n["id"] for n in page["items"]]
    assert all(n["status"] == "dead" for n in page["items"])
    mine = next(n for n in page["items"] if n["id"] == dead)
    assert mine["last_error"] == "HTTP 500" and page["counts"]["pending"] >= 1 and page["counts"]["dead"] >= 1
    assert (await rig.client.get("/api/v1/notifications", headers=rig.auth("viewer"))).status_code == 403
    assert (
        await rig.client.get("/api/v1/notifications?status=nope", headers=rig.auth("admin"))
    ).status_code == 422

    no = await rig.client.post(f"/api/v1/notifications/{dead}/retry", headers=rig.auth("first_level_support"))
    assert no.status_code == 403
    ok = await rig.client.post(
        f"/api/v1/notifications/{dead}/retry",
        json={"reason": "receiver back"},
        headers=rig.auth("technical_lead"),
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "pending" and ok.json()["attempts"] == 0
    twice = await rig.client.post(f"/api/v1/notifications/{dead}/retry", headers=rig.auth("technical_lead"))
    assert twice.status_code == 409 and "only dead notifications" in twice.json()["error"]["message"]
    missing = await rig.client.post("/api/v1/notifications/999999/retry", headers=rig.auth("technical_lead"))
    assert missing.status_code == 404
    show = await rig.client.get(f"/api/v1/notifications/{dead}", headers=rig.auth("admin"))
    assert show.status_code == 200 and show.json()["delivery_attempts"] == []


async def test_retry_is_audited(rig: ApiRig) -> None:
    dead = await _dead(rig, "dead-2")
    r = await rig.client.post(f"/api/v1/notifications/{dead}/retry", json={"reason": "fixed"},
                              headers=rig.auth("technical_lead"))  # fmt: skip
    assert r.status_code == 200
    async with rig.sessions() as s:
        entries = list(await s.scalars(select(AuditEntry)))
    mine = [e for e in entries if e.action == "notification.retry" and e.target == f"notification:{dead}"]
    assert len(mine) == 1 and mine[0].reason == "fixed"
