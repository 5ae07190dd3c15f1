"""Support queue pages through the real app: a ticket opened from the console's New ticket form (source
console, SLA clocks running), then worked from its page: assigned, a public reply (an outbox row addressed
to the requester, the first-response clock met), an internal note (never sent), moved new -> open ->
pending -> solved -> closed, every step audited; and the refusals: a move the transition table refuses
(the service's message on the page, 409), bad input on the New ticket form (422, the form kept), a viewer
without tickets.read (403), a form without its CSRF token ("Form expired")."""

from __future__ import annotations

import dataclasses
import re

import httpx
import pytest
from sqlalchemy import select

from api.rig import ApiRig
from fictra.audit.service import list_entries
from fictra.notify.models import Notification
from fictra.support.config import SupportConfig
from fictra.support.models import Ticket
from web.conftest import LEAD, VIEWER, client_for, csrf_of, sign_in

NEW = {
    "title": "Cannot redeem PT",
    "description": "Redemption of 500 PT fails with 'paused'.",
    "requester_name": "Grace Hopper",
    "requester_email": "grace@Central.Example",
    "participant": "central-bank-7",
    "category": "transactions",
    "priority": "P1",
}


@pytest.fixture(autouse=True)
def replies_receiver(rig: ApiRig) -> None:
    """Replies need a receiver (support.yaml ships with none)."""
    support = SupportConfig.model_validate({"replies": {"receiver": "support", "channel": "mail"}})
    rig.context.config = dataclasses.replace(rig.context.config_set, support=support)


def state_of(html: str) -> str:
    found = re.search(r'id="ticket-state" data-state="(\w+)"', html)
    assert found, "no ticket state on the page"
    return found.group(1)


async def _open_ticket(client: httpx.AsyncClient) -> int:
    listing = await client.get("/tickets")
    assert listing.status_code == 200, listing.text
    made = await client.post("/tickets", data={**NEW, "csrf_token": csrf_of(listing.text)})
    assert made.status_code == 303, made.text
    found = re.fullmatch(r"/tickets/(\d+)", made.headers["location"])
    assert found
    return int(found.group(1))


async def _post(client: httpx.AsyncClient, ticket_id: int, form: str, **data: str) -> httpx.Response:
    page = await client.get(f"/tickets/{ticket_id}")
    return await client.post(f"/tickets/{ticket_id}/{form}", data={**data, "csrf_token": csrf_of(page.text)})


async def test_open_and_work_a_ticket_from_the_console(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    empty = await lead.get("/tickets")
    assert 'href="/tickets" class="active" aria-current="page"' in empty.text  # nav link
    assert 'id="tickets-empty"' in empty.text and 'id="new-ticket-form"' in empty.text
    tid = await _open_ticket(lead)

    listing = await lead.get("/tickets")
    row = re.search(rf'<tr data-ticket-id="{tid}" data-state="(\w+)" data-priority="(P\d)"', listing.text)
    assert row and row.groups() == ("new", "P1")
    assert "Cannot redeem PT" in listing.text and listing.text.count('class="countdown"') == 2
    async with rig.sessions() as session:
        ticket = await session.get(Ticket, tid)
        assert ticket is not None
        assert (ticket.source, ticket.requester_email, ticket.created_by) == (
            "console",
            "grace@central.example",
            LEAD,
        )

    page = await lead.get(f"/tickets/{tid}")
    assert page.status_code == 200 and state_of(page.text) == "new"
    assert 'data-clock="first_response" data-clock-state="running"' in page.text
    assert "<script" not in page.text.split("</head>")[1]

    assigned = await _post(lead, tid, "assign", assignee="u-first-level-support")
    assert assigned.status_code == 303 and assigned.headers["location"] == f"/tickets/{tid}"
    opened = await _post(lead, tid, "state", state="open", note="taking it")
    assert opened.status_code == 303
    noted = await _post(lead, tid, "notes", body="Reserve paused: see the incident.")
    assert noted.status_code == 303
    linked = await _post(lead, tid, "links", kind="incident", ref="7")
    assert linked.status_code == 303
    rig.clock.advance(30 * 60)
    replied = await _post(lead, tid, "replies", body="Redemptions resume at 12:00 UTC.")
    assert replied.status_code == 303

    page = await lead.get(f"/tickets/{tid}")
    assert state_of(page.text) == "open"
    assert 'id="ticket-assignee">u-first-level-support<' in page.text
    assert 'data-clock="first_response" data-clock-state="met"' in page.text
    assert re.findall(r'data-comment-id="\d+" data-kind="(\w+)"', page.text) == ["internal", "public"]
    assert "Reserve paused" in page.text and "Redemptions resume" in page.text
    assert 'data-link="incident:7"' in page.text
    async with rig.sessions() as session:
        outbox = (await session.scalars(select(Notification))).all()
    assert len(outbox) == 1  # the reply, not the note
    [sent] = outbox
    assert (sent.receiver, sent.channel) == ("support", "mail")
    assert sent.message["recipients"] == ["grace@central.example"]
    assert sent.message["subject"] == f"[#{tid}] Cannot redeem PT"
    assert sent.message["body"] == "Redemptions resume at 12:00 UTC."

    for state in ("pending", "solved", "closed"):
        moved = await _post(lead, tid, "state", state=state)
        assert moved.status_code == 303, moved.text
    closed = await lead.get(f"/tickets/{tid}")
    assert state_of(closed.text) == "closed" and 'id="work"' not in closed.text
    assert 'data-clock="resolution" data-clock-state="met"' in closed.text
    async with rig.sessions() as session:
        entries = list(reversed(await list_entries(session, target=f"ticket:{tid}")))
    audit = [e.action for e in entries]
    assert {e.actor for e in entries} == {LEAD}
    assert entries[2].reason == "taking it"
    assert audit == [
        "ticket.create", "ticket.assign", "ticket.state", "ticket.note", "ticket.link", "ticket.reply",
        "ticket.state", "ticket.state", "ticket.state",
    ]  # fmt: skip


async def test_refusals_on_the_ticket_pages(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    tid = await _open_ticket(lead)
    refused = await _post(lead, tid, "state", state="solved")
    assert refused.status_code == 409
    assert 'id="ticket-error" data-form="state"' in refused.text
    assert f"Ticket {tid} cannot move new -&gt; solved: missing an assignee" in refused.text
    assert "a public reply to the requester" in refused.text
    assert state_of(refused.text) == "new"  # the ticket's page, its forms still there
    assert 'id="state-form"' in refused.text

    listing = await lead.get("/tickets")
    bad = await lead.post(
        "/tickets", data={**NEW, "requester_email": "grace at central", "csrf_token": csrf_of(listing.text)}
    )
    assert bad.status_code == 422 and 'id="new-ticket-error"' in bad.text
    assert "&#39;grace at central&#39; is not an email address" in bad.text
    assert 'value="Cannot redeem PT"' in bad.text  # the form is kept

    no_csrf = await lead.post(f"/tickets/{tid}/state", data={"state": "open"})
    assert no_csrf.status_code == 403 and "Form expired" in no_csrf.text
    no_csrf_new = await lead.post("/tickets", data=NEW)
    assert no_csrf_new.status_code == 403 and "Form expired" in no_csrf_new.text
    missing = await lead.get("/tickets/99999")
    assert missing.status_code == 404 and "No ticket with id 99999" in missing.text

    async with client_for(rig) as viewer:
        assert (await sign_in(viewer, VIEWER)).status_code == 303
        home = await viewer.get("/")
        assert 'href="/tickets"' not in home.text  # no nav link without tickets.read
        denied = await viewer.get("/tickets")
        assert denied.status_code == 403 and "tickets.read" in denied.text
        assert (await viewer.get(f"/tickets/{tid}")).status_code == 403
        posted = await viewer.post("/tickets", data={**NEW, "csrf_token": csrf_of(home.text)})
        assert posted.status_code == 403
        assert (
            await viewer.post(f"/tickets/{tid}/notes", data={"body": "x", "csrf_token": csrf_of(home.text)})
        ).status_code == 403
    async with rig.sessions() as session:
        assert [e.action for e in await list_entries(session, target=f"ticket:{tid}")] == ["ticket.create"]
        assert len((await session.scalars(select(Ticket))).all()) == 1
