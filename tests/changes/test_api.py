"""The change requests API through the real app (real users and tokens, SQLite and PostgreSQL): a change
created, submitted, assessed and sent to authorization; a role the rule does not take refused, a user
without changes.approve refused; an edit voids the approvals (and an approval of the old content is
refused); approved by every role of the rule; a second change on the same component in an overlapping
slot is a conflict that blocks scheduling until an approver acknowledges it."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from api.rig import ApiRig, add_user, api_rig
from fictra.audit.service import list_entries

from .conftest import NO, fee_change, shipped_config

ROLES = ["technical_lead", "system_architect", "operations_manager", "security_officer", "viewer",
         "first_level_support"]  # fmt: skip
URL = "/api/v1/changes"


@pytest.fixture
async def rig(database_url: str) -> AsyncIterator[ApiRig]:
    async with api_rig(database_url, roles=ROLES, alerts=0) as r:
        r.context.config = dataclasses.replace(r.context.config_set, changes=shipped_config())
        tom = await add_user(r, username="tom", role="technical_lead")
        r.tokens["tom"] = tom.token
        yield r


def body(**kw: Any) -> dict[str, Any]:
    return fee_change(**kw).model_dump(mode="json")


async def call(rig: ApiRig, who: str, path: str, payload: Any = None, *, method: str = "POST") -> Any:
    r = await rig.client.request(method, URL + path, json=payload, headers=rig.auth(who))
    return r


async def ok(rig: ApiRig, who: str, path: str, payload: Any = None, *, method: str = "POST") -> Any:
    r = await call(rig, who, path, payload, method=method)
    assert r.status_code in (200, 201), r.text
    return r.json()


async def to_authorization(rig: ApiRig, payload: dict[str, Any]) -> dict[str, Any]:
    created = await ok(rig, "technical_lead", "", payload)
    cid = created["id"]
    assert created["state"] == "draft" and created["platform"]["connected"] is False
    assert "not connected" in created["platform"]["note"]
    await ok(rig, "technical_lead", f"/{cid}/submit")
    assessed = await ok(rig, "technical_lead", f"/{cid}/assess", {"answers": NO})
    assert assessed["risk"] == "high"  # PaymentToken is critical (3) + a normal change (1) = 4
    return await ok(rig, "technical_lead", f"/{cid}/request-authorization")


async def test_create_assess_approve_edit_voids_and_schedule_conflict(rig: ApiRig) -> None:
    # refused early: a request before assessment names every missing item, nothing written
    early = await ok(rig, "technical_lead", "", body())
    cid = early["id"]
    waits = {n["action"]: n for n in early["machine"]["next"]}
    assert set(waits) == {"submit", "cancel"} and waits["submit"]["possible"]
    await ok(rig, "technical_lead", f"/{cid}/submit")
    refused = await call(rig, "technical_lead", f"/{cid}/request-authorization")
    assert refused.status_code == 409
    assert "impact not assessed; risk not evaluated" in refused.json()["error"]["message"]
    await ok(rig, "technical_lead", f"/{cid}/assess", {"answers": NO})
    change = await ok(rig, "technical_lead", f"/{cid}/request-authorization")
    assert change["state"] == "authorization"
    assert change["rule"]["roles"] == ["technical_lead", "system_architect", "operations_manager"]
    h1 = change["content_hash"]

    # wrong roles: no changes.approve at all (403 by permission); a role the rule does not take (403)
    no_perm = await call(rig, "first_level_support", f"/{cid}/approve", {"content_hash": h1})
    assert no_perm.status_code == 403
    wrong = await call(rig, "security_officer", f"/{cid}/approve", {"content_hash": h1})
    assert wrong.status_code == 403 and "needs a technical_lead or" in wrong.json()["error"]["message"]
    mine = await call(rig, "technical_lead", f"/{cid}/approve", {"content_hash": h1})
    assert mine.status_code == 409 and "requester cannot approve" in mine.json()["error"]["message"]
    viewer = await call(rig, "viewer", "", body())
    assert viewer.status_code == 403  # viewers read, they do not request

    await ok(rig, "system_architect", f"/{cid}/approve", {"content_hash": h1})
    await ok(rig, "tom", f"/{cid}/approve", {"content_hash": h1})
    shown = await ok(rig, "viewer", f"/{cid}", method="GET")
    assert shown["approval_status"]["missing"] == ["operations_manager"]
    assert [a["current"] for a in shown["approvals"]] == [True, True]

    # an edit voids the approvals; the old content cannot be approved any more
    edited = await ok(rig, "technical_lead", f"/{cid}", body(description="Market conditions (v2)."),
                      method="PUT")  # fmt: skip
    h2 = edited["content_hash"]
    assert h2 != h1 and edited["state"] == "authorization"
    assert [a["current"] for a in edited["approvals"]] == [False, False]
    assert set(edited["approval_status"]["missing"]) == {"technical_lead", "system_architect",
                                                        "operations_manager"}  # fmt: skip
    stale = await call(rig, "operations_manager", f"/{cid}/approve", {"content_hash": h1})
    assert stale.status_code == 409 and "content changed" in stale.json()["error"]["message"]
    for who in ("system_architect", "tom", "operations_manager"):
        approved = await ok(rig, who, f"/{cid}/approve", {"content_hash": h2})
    assert approved["approval_status"] == {"satisfied": True, "missing": []}

    # another change on PaymentToken in an overlapping slot: a conflict blocks scheduling
    other = await to_authorization(rig, body(title="Pause PaymentToken transfers for an audit"))
    blocked = await call(rig, "technical_lead", f"/{cid}/schedule")
    assert blocked.status_code == 409
    assert f"change {other['id']} (Pause PaymentToken transfers" in blocked.json()["error"]["message"]
    conflicts = (await ok(rig, "viewer", f"/{cid}/conflicts", method="GET"))["conflicts"]
    assert [(c["kind"], c["acknowledged"]) for c in conflicts] == [("overlap", False)]
    not_approver = await call(rig, "viewer", f"/{cid}/acknowledge", {"note": "ok"})
    assert not_approver.status_code == 403
    acked = await ok(rig, "operations_manager", f"/{cid}/acknowledge", {"note": "sequenced after #2"})
    assert acked["conflicts_ack"]["by"] == "u-operations-manager"
    scheduled = await ok(rig, "technical_lead", f"/{cid}/schedule")
    assert scheduled["state"] == "scheduled"
    assert {n["action"] for n in scheduled["machine"]["next"]} == {"start", "cancel"}
    kinds = [e["kind"] for e in scheduled["events"]]
    assert kinds == ["created", "submit", "assessed", "request_authorization", "approved", "approved",
                     "edited", "approved", "approved", "approved", "conflicts_acknowledged",
                     "schedule"]  # fmt: skip

    listed = await ok(rig, "viewer", "?state=scheduled", method="GET")
    assert [c["id"] for c in listed] == [cid]
    async with rig.sessions() as s:
        audited = [e.action for e in await list_entries(s, limit=200) if e.target == f"change:{cid}"]
    assert "change.edited" in audited and "change.schedule" in audited
