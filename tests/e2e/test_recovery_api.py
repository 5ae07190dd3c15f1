"""The system recovery procedure run from an incident through the API (POST /api/v1/incidents/{id}/recovery)
on a real Anvil with the platform running (tests/e2e/harness.py): the technical lead's call restarts the
follower, verifies the data, sees the service restored and the performance within bounds, each step on the
incident's timeline under their name and in the audit log; a viewer is refused (403), an unknown incident
is 404, a subset of steps runs only those, and the API served without the running platform answers 409
(as actions do without a runner).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from e2e.harness import Running, start
from fictra.api.app import create_app
from fictra.api.context import AppContext
from fictra.audit.service import list_entries
from fictra.auth.actor import SYSTEM
from fictra.auth.permissions import PERMISSIONS, load_roles
from fictra.auth.policy import DEFAULT_POLICY
from fictra.auth.service import create_user
from fictra.auth.tokens import create_token
from fictra.incidents.models import IncidentEvent
from fictra.incidents.service import declare
from fictra.notify.models import Notification

pytestmark = [pytest.mark.e2e]
PASSWORD = "Recovery-Api-Passphrase-42"


async def _tokens(running: Running) -> dict[str, str]:
    """A user per role with a token scoped to every permission the role holds."""
    platform = running.platform
    roles = load_roles(platform.settings.config_dir / "roles.yaml")
    tokens: dict[str, str] = {}
    async with platform.sessions.begin() as db:
        for role in ("technical_lead", "viewer"):
            user = await create_user(
                db,
                username=f"u-{role}",
                roles=[role],
                password=PASSWORD,
                role_map=roles,
                actor=SYSTEM,
                clock=platform.clock,
            )
            new = await create_token(
                db,
                user=user,
                scopes=sorted(roles.permissions_of([role]) & set(PERMISSIONS)),
                expires_in=timedelta(days=1),
                role_map=roles,
                actor=SYSTEM,
                clock=platform.clock,
                policy=DEFAULT_POLICY,
            )
            tokens[role] = new.token
    return tokens


def _client(running: Running, *, with_platform: bool = True) -> httpx.AsyncClient:
    platform = running.platform
    context = AppContext(
        settings=platform.settings,
        sessions=platform.sessions,
        metrics=platform.metrics,
        clock=platform.clock,
        status=lambda: {},
        platform=platform if with_platform else None,
        config=platform.config,
        roles=load_roles(platform.settings.config_dir / "roles.yaml"),
    )
    transport = httpx.ASGITransport(app=create_app(context=context), client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=120)


async def _keep_mining(running: Running, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await running.mine()
        await asyncio.sleep(0.2)


async def _events(running: Running, incident_id: int) -> list[IncidentEvent]:
    async with running.platform.sessions() as session:
        rows = await session.execute(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id, IncidentEvent.kind == "recovery")
            .order_by(IncidentEvent.id)
        )
        return list(rows.scalars())


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    started = await start(tmp_path, incidents=True)
    try:
        yield started
    finally:
        await started.close()


async def test_recovery_from_an_incident_through_the_api(running: Running) -> None:
    await running.mine(25)
    await running.settle()
    tokens = await _tokens(running)
    async with running.platform.sessions.begin() as session:
        incident = await declare(
            session,
            title="Follower stalled",
            severity="P2",
            category="infrastructure",
            actor="alice",
            clock=running.platform.clock,
        )
    url = f"/api/v1/incidents/{incident.id}/recovery"
    lead = {"Authorization": f"Bearer {tokens['technical_lead']}"}
    restarts = running.platform.supervisor.state("follower").restarts

    async with _client(running) as client:
        refused = await client.post(url, headers={"Authorization": f"Bearer {tokens['viewer']}"})
        assert refused.status_code == 403, refused.text
        missing = await client.post("/api/v1/incidents/99999/recovery", headers=lead)
        assert missing.status_code == 404, missing.text
        assert running.platform.supervisor.state("follower").restarts == restarts

        stop = asyncio.Event()
        miner = asyncio.create_task(_keep_mining(running, stop))
        try:
            answer = await client.post(url, headers=lead)
        finally:
            stop.set()
            await miner
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["incident_id"] == incident.id
        assert [(s["name"], s["ok"]) for s in body["steps"]] == [
            ("restart", True),
            ("data", True),
            ("restoration", True),
            ("performance", True),
        ], [(s["name"], s["summary"]) for s in body["steps"]]
        assert body["ok"] is True
        assert running.platform.supervisor.state("follower").restarts == restarts + 1
        data = body["steps"][1]["evidence"]
        assert len(data["blocks_checked"]) == 20 and data["mismatched"] == [] and data["audit"]["ok"]

        events = await _events(running, incident.id)
        assert [e.ref for e in events] == [
            f"recovery:{s}" for s in ("restart", "data", "restoration", "performance")
        ]
        assert all(e.actor == "u-technical_lead" and e.details["ok"] is True for e in events)
        async with running.platform.sessions() as session:
            audited = await list_entries(session, action="incident.recovery.step")
        assert [(e.actor, e.target) for e in audited] == [("u-technical_lead", f"incident:{incident.id}")] * 4
        async with running.platform.sessions() as session:  # the stakeholders were told at each step
            updates = (
                (
                    await session.execute(
                        select(IncidentEvent).where(
                            IncidentEvent.incident_id == incident.id, IncidentEvent.kind == "status_update"
                        )
                    )
                )
                .scalars()
                .all()
            )
            queued = (
                (
                    await session.execute(
                        select(Notification.message).where(Notification.receiver.is_not(None))
                    )
                )
                .scalars()
                .all()
            )
        assert len(updates) == 4, [u.text for u in updates]
        recovery_mail = [m for m in queued if "Recovery · " in str(m)]
        assert len(recovery_mail) >= 4, queued

        # one step only: the data verification, nothing restarted
        only = await client.post(url, headers=lead, json={"steps": ["data"]})
        assert only.status_code == 200, only.text
        assert [s["name"] for s in only.json()["steps"]] == ["data"]
        assert running.platform.supervisor.state("follower").restarts == restarts + 1
        bad = await client.post(url, headers=lead, json={"steps": ["reboot"]})
        assert bad.status_code == 422
        assert len(await _events(running, incident.id)) == 5

    async with _client(running, with_platform=False) as apart:
        unavailable = await apart.post(url, headers=lead)
        assert unavailable.status_code == 409, unavailable.text
        assert "running platform" in unavailable.text


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def _csrf(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "no csrf_token field in the page"
    return found.group(1)


async def _signed_in(client: httpx.AsyncClient, username: str) -> None:
    form = await client.get("/login")
    done = await client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _csrf(form.text), "next": "/"},
    )
    assert done.status_code == 303, done.text


async def test_run_recovery_button_on_the_incident_page(running: Running) -> None:
    await running.mine(25)
    await running.settle()
    await _tokens(running)  # the users
    async with running.platform.sessions.begin() as session:
        incident = await declare(
            session,
            title="RPC flapping",
            severity="P2",
            category="infrastructure",
            actor="alice",
            clock=running.platform.clock,
        )
    page_url = f"/incidents/{incident.id}"
    async with _client(running) as viewer:
        await _signed_in(viewer, "u-viewer")
        seen = await viewer.get(page_url)
        assert seen.status_code == 200 and 'id="btn-recovery"' not in seen.text
        denied = await viewer.post(f"{page_url}/recovery", data={"csrf_token": _csrf(seen.text)})
        assert denied.status_code == 403

    async with _client(running) as lead:
        await _signed_in(lead, "u-technical_lead")
        page = await lead.get(page_url)
        assert 'id="btn-recovery"' in page.text
        stop = asyncio.Event()
        miner = asyncio.create_task(_keep_mining(running, stop))
        try:
            ran = await lead.post(f"{page_url}/recovery", data={"csrf_token": _csrf(page.text)})
        finally:
            stop.set()
            await miner
        assert ran.status_code == 303, ran.text
        assert ran.headers["location"] == f"{page_url}?done=recovery#timeline"
        after = await lead.get(ran.headers["location"])
        assert "Recovery ran: every step passed" in after.text
        assert "Recovery · restart: passed" in after.text and "Recovery · performance: passed" in after.text
    events = await _events(running, incident.id)
    assert [(e.ref, e.actor) for e in events] == [
        (f"recovery:{s}", "u-technical_lead") for s in ("restart", "data", "restoration", "performance")
    ]

    async with _client(running, with_platform=False) as apart:
        await _signed_in(apart, "u-technical_lead")
        page = await apart.get(page_url)
        refused = await apart.post(f"{page_url}/recovery", data={"csrf_token": _csrf(page.text)})
        assert refused.status_code == 409
        assert 'id="incident-error" data-section="recovery"' in refused.text
        assert "needs the running platform" in refused.text
