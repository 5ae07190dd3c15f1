"""The tickets API through the real app (real users and scoped tokens; SQLite and PostgreSQL): a ticket
submitted with an integration token scoped to support.submit, worked through its states, the refusals
naming what is missing, and the public reply delivered to a real local SMTP server through the outbox."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from api.rig import ApiRig, api_rig, username_of
from fictra.audit.service import list_entries
from fictra.auth.actor import SYSTEM
from fictra.auth.policy import DEFAULT_POLICY
from fictra.auth.service import get_user
from fictra.auth.tokens import create_token
from fictra.notify.config import ReceiversConfig
from fictra.notify.worker import Outbox
from notify.test_channels import _Inbox, smtp  # noqa: F401  (the local SMTP receiver fixture)

from .conftest import support_config

ROLES = ["first_level_support", "viewer"]
TICKET = {
    "title": "Cannot redeem PT",
    "description": "Redemption of 500 PT fails with 'paused'.",
    "requester_name": "Grace Hopper",
    "requester_email": "grace@Central.Example",
    "participant": "central-bank-7",
    "category": "transactions",
    "priority": "P1",
}


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[ApiRig]:
    async with api_rig(database_url, roles=ROLES, alerts=0) as r:
        r.context.config = dataclasses.replace(r.context.config_set, support=support_config())
        yield r


async def _integration_token(rig: ApiRig) -> str:
    """A token of the support user limited to support.submit (what a participant's system holds)."""
    async with rig.sessions.begin() as db:
        user = await get_user(db, username=username_of("first_level_support"))
        new = await create_token(
            db, user=user, scopes=["support.submit"], expires_in=timedelta(days=1), role_map=rig.roles,
            actor=SYSTEM, clock=rig.clock, policy=DEFAULT_POLICY,
        )  # fmt: skip
    return new.token


async def test_submit_with_a_scoped_token_and_work_the_ticket(rig: ApiRig) -> None:
    token = {"Authorization": f"Bearer {await _integration_token(rig)}"}
    made = await rig.client.post("/api/v1/tickets", json=TICKET, headers=token)
    assert made.status_code == 201, made.text
    ticket = made.json()
    tid = ticket["id"]
    assert (ticket["state"], ticket["source"], ticket["priority"]) == ("new", "api", "P1")
    assert ticket["requester_email"] == "grace@central.example"
    assert ticket["first_response"]["deadline"].startswith("2026-01-01T01:00")  # P1: 1 h
    assert ticket["resolution"]["deadline"].startswith("2026-01-02T00:00")  # P1: 24 h
    # the integration token submits, nothing else
    assert (await rig.client.get("/api/v1/tickets", headers=token)).status_code == 403
    assert (
        await rig.client.post("/api/v1/tickets", json=TICKET, headers=rig.auth("viewer"))
    ).status_code == 403

    support = rig.auth("first_level_support")
    refused = await rig.client.post(f"/api/v1/tickets/{tid}/state", json={"state": "solved"}, headers=support)
    assert refused.status_code == 409
    assert "missing an assignee" in refused.json()["error"]["message"]
    assert "a public reply to the requester" in refused.json()["error"]["message"]
    closed = await rig.client.post(f"/api/v1/tickets/{tid}/state", json={"state": "closed"}, headers=support)
    assert closed.status_code == 409 and "it can move to open, pending, solved, not closed" in closed.text

    r = await rig.client.post(
        f"/api/v1/tickets/{tid}/assign", json={"assignee": "u-first-level-support"}, headers=support
    )
    assert r.json()["assignee"] == "u-first-level-support"
    r = await rig.client.post(f"/api/v1/tickets/{tid}/state", json={"state": "open"}, headers=support)
    assert r.json()["state"] == "open"
    r = await rig.client.post(
        f"/api/v1/tickets/{tid}/notes", json={"body": "Reserve paused: see alert"}, headers=support
    )
    assert r.status_code == 200
    r = await rig.client.post(
        f"/api/v1/tickets/{tid}/links", json={"kind": "incident", "ref": "7"}, headers=support
    )
    assert r.json()["links"][0]["kind"] == "incident" and r.json()["links"][0]["ref"] == "7"
    rig.clock.advance(30 * 60)
    r = await rig.client.post(
        f"/api/v1/tickets/{tid}/replies", json={"body": "Redemptions resume at 12:00 UTC."}, headers=support
    )
    detail = r.json()
    assert detail["first_response"]["state"] == "met"
    assert [c["kind"] for c in detail["comments"]] == ["internal", "public"]
    for state in ("pending", "solved", "closed"):
        r = await rig.client.post(f"/api/v1/tickets/{tid}/state", json={"state": state}, headers=support)
        assert r.json()["state"] == state, r.text
    assert detail["comments"][1]["notification_id"] is not None

    viewer = await rig.client.get(f"/api/v1/tickets/{tid}", headers=rig.auth("viewer"))
    assert viewer.status_code == 403  # tickets hold requesters' addresses: not for every reader
    async with rig.sessions() as s:
        audit = [e.action for e in reversed(await list_entries(s, target=f"ticket:{tid}"))]
    assert audit == [
        "ticket.create", "ticket.assign", "ticket.state", "ticket.note", "ticket.link", "ticket.reply",
        "ticket.state", "ticket.state", "ticket.state",
    ]  # fmt: skip


async def test_bad_input_is_refused_clearly(rig: ApiRig) -> None:
    support = rig.auth("first_level_support")
    bad = {**TICKET, "requester_email": "grace at central"}
    r = await rig.client.post("/api/v1/tickets", json=bad, headers=support)
    assert (
        r.status_code == 422 and "'grace at central' is not an email address" in r.json()["error"]["message"]
    )
    r = await rig.client.post("/api/v1/tickets", json={**TICKET, "category": "nope"}, headers=support)
    assert r.status_code == 422 and "Category 'nope' is not one of: general" in r.json()["error"]["message"]
    r = await rig.client.get("/api/v1/tickets/999", headers=support)
    assert r.status_code == 404 and "No ticket with id 999" in r.json()["error"]["message"]


async def test_a_public_reply_is_delivered_to_the_requester(
    rig: ApiRig,
    smtp: tuple[_Inbox, int],  # noqa: F811
    tmp_path: Path,
) -> None:
    inbox, port = smtp
    support = rig.auth("first_level_support")
    tid = (await rig.client.post("/api/v1/tickets", json=TICKET, headers=support)).json()["id"]
    r = await rig.client.post(
        f"/api/v1/tickets/{tid}/replies", json={"body": "We are on it.\nOps"}, headers=support
    )
    assert r.status_code == 200, r.text
    receivers = ReceiversConfig.model_validate(
        {
            "receivers": [
                {
                    "name": "support",
                    "channels": [
                        {
                            "type": "email",
                            "name": "mail",
                            "host": "127.0.0.1",
                            "port": port,
                            "security": "none",
                            "sender": "support@fictra.example",
                            "to": ["ops@fictra.example"],
                            "direct": True,
                        }
                    ],
                }
            ]
        }
    )
    box = Outbox(
        sessions=rig.sessions, config=receivers, clock=rig.clock, base_dir=tmp_path, rng=random.Random(1)
    )
    try:
        await box.run_once()
    finally:
        await box.aclose()
    [(sender, rcpts, mail)] = inbox.mails
    assert sender == "support@fictra.example" and rcpts == ["grace@central.example"]
    assert mail["Subject"] == f"[#{tid}] Cannot redeem PT"
    assert mail.get_payload(decode=True).decode().replace("\r\n", "\n").strip() == "We are on it.\nOps"
