"""Emergency action pages through the real app (no chain here: the runner is absent, and the pages say
so): proposing from an incident, the parameters and their hash, the approval rule and each approval,
the approval refusals (same person twice, a role the rule does not take, parameters changed since the
page was loaded) shown with the service's message, Execute disabled until approved and dry-run, cancel,
the automatic-response policies, and who may do what (CSRF required)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from api.rig import PASSWORD, ApiRig
from fictra.audit.service import list_entries
from fictra.auth.actor import SYSTEM
from fictra.auth.service import create_user
from fictra.emergency import service
from fictra.platform.config_set import load_config_set
from web.conftest import AUDITOR, LEAD, VIEWER, client_for, csrf_of, sign_in
from web.test_incidents_pages import declare

OPS = "u-operations-manager"
ACTION = re.compile(r"^/actions/(\d+)\?done=proposed$")
POLICIES = """
policies:
  - name: reserve-drain-pause
    description: A reserve breach at P0 pauses everything at once.
    when: {monitor: contract-status, labels: {condition: reserve_breach}, severity: P0}
    action: pause_all
"""


async def propose(client: httpx.AsyncClient, token: str, **fields: str) -> int:
    done = await client.post("/actions", data={"csrf_token": token, **fields})
    assert done.status_code == 303, done.text
    found = ACTION.match(done.headers["location"])
    assert found, done.headers["location"]
    return int(found.group(1))


@pytest.fixture
async def auditor(rig: ApiRig) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(rig) as client:
        assert (await sign_in(client, AUDITOR)).status_code == 303
        yield client


@pytest.fixture
async def ops(rig: ApiRig) -> AsyncIterator[httpx.AsyncClient]:
    async with rig.sessions.begin() as db:
        await create_user(
            db,
            username=OPS,
            roles=["operations_manager"],
            password=PASSWORD,
            role_map=rig.roles,
            actor=SYSTEM,
            clock=rig.clock,
        )
    async with client_for(rig) as client:
        assert (await sign_in(client, OPS)).status_code == 303
        yield client


async def test_pause_proposed_from_the_incident_page(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    incident_id = await declare(lead)
    page = await lead.get(f"/incidents/{incident_id}")
    assert '<option value="pause_all"' in page.text and '<option value="policy_enable"' not in page.text
    action_id = await propose(
        lead,
        csrf_of(page.text),
        kind="pause_all",
        incident_id=str(incident_id),
        reason="reserve drained",
    )
    shown = await lead.get(f"/actions/{action_id}?done=proposed")
    assert shown.status_code == 200 and "Action proposed." in shown.text
    async with rig.sessions() as session:
        view = await service.get_action(session, action_id, clock=rig.clock)
    assert (view.kind, view.incident_id, view.status) == ("pause_all", incident_id, "approved")
    assert f'data-copy="{view.params_hash}"' in shown.text  # the hash every approval is bound to
    assert view.approvals_needed in shown.text.replace("&#39;", "'")
    # speed first: the technical lead's proposal counts as their approval, so the rule holds
    assert f'data-approver="{LEAD}" data-valid="yes"' in shown.text
    assert 'id="rule-state">rule satisfied<' in shown.text
    # ...but Execute waits for a dry run, and this console has no runner: disabled, saying why
    assert 'id="dry-run-empty"' in shown.text
    assert re.search(r'id="btn-execute" disabled', shown.text)
    blockers = re.search(r'id="execute-blockers">(.*?)</p>', shown.text, re.S)
    assert blockers and "no dry run of the current parameters yet" in blockers.group(1)
    assert "the action runner is not running here" in blockers.group(1)
    # the incident lists it, and its timeline has the action's events
    back = await lead.get(f"/incidents/{incident_id}")
    assert f'data-action-id="{action_id}" data-status="approved"' in back.text
    assert 'data-kind="action.proposed"' in back.text and f'href="/actions/{action_id}"' in back.text

    token = csrf_of(shown.text)
    run = await lead.post(f"/actions/{action_id}/execute", data={"csrf_token": token})
    assert run.status_code == 409 and "The action runner is not running here" in run.text
    dry = await lead.post(f"/actions/{action_id}/dry-run", data={"csrf_token": token})
    assert dry.status_code == 409 and "The action runner is not running here" in dry.text
    async with rig.sessions() as session:
        assert (await service.get_action(session, action_id)).status == "approved"  # nothing happened


async def test_unpause_needs_two_approvals_including_the_operations_manager(
    rig: ApiRig, lead: httpx.AsyncClient, auditor: httpx.AsyncClient, ops: httpx.AsyncClient
) -> None:
    token = csrf_of((await lead.get("/actions")).text)
    action_id = await propose(lead, token, kind="unpause_all", reason="root cause fixed")
    page = await lead.get(f"/actions/{action_id}")
    assert 'id="rule-state">not yet satisfied<' in page.text
    assert 'id="approved-by-you"' in page.text and 'id="btn-approve"' not in page.text
    # the same person twice: refused with the service's message
    again = await lead.post(
        f"/actions/{action_id}/approve", data={"csrf_token": token, "params_hash": _hash(page.text)}
    )
    assert again.status_code == 409 and f"&#39;{LEAD}&#39; already approved action {action_id}" in again.text
    # a second person, but the rule also needs an operations manager: execute is refused naming it
    a_page = await auditor.get(f"/actions/{action_id}")
    assert 'id="btn-approve"' in a_page.text
    a_token = csrf_of(a_page.text)
    ok = await auditor.post(
        f"/actions/{action_id}/approve", data={"csrf_token": a_token, "params_hash": _hash(a_page.text)}
    )
    assert ok.status_code == 303 and ok.headers["location"] == f"/actions/{action_id}?done=approved"
    refused = await lead.post(f"/actions/{action_id}/execute", data={"csrf_token": token})
    assert refused.status_code == 409, refused.text
    error = re.search(r'id="action-error">([^<]*)<', refused.text)
    assert error and "is not approved" in error.group(1)
    assert "Still needed: an approval from an operations_manager" in error.group(1)
    # parameters the approver did not see: refused
    stale = await ops.post(
        f"/actions/{action_id}/approve",
        data={"csrf_token": csrf_of((await ops.get("/actions")).text), "params_hash": "0" * 64},
    )
    assert stale.status_code == 409 and "parameters changed" in stale.text
    o_page = await ops.get(f"/actions/{action_id}")
    done = await ops.post(
        f"/actions/{action_id}/approve",
        data={"csrf_token": csrf_of(o_page.text), "params_hash": _hash(o_page.text)},
    )
    assert done.status_code == 303
    after = await lead.get(f"/actions/{action_id}")
    assert 'id="rule-state">rule satisfied<' in after.text
    assert len(re.findall(r'data-valid="yes"', after.text)) == 3
    async with rig.sessions() as session:
        entries = await list_entries(session, action="action.approved")
    assert sorted(e.actor for e in entries) == sorted([LEAD, AUDITOR, OPS])


def _hash(html: str) -> str:
    found = re.search(r'name="params_hash" value="([0-9a-f]{64})"', html) or re.search(
        r'id="params-hash" data-copy="([0-9a-f]{64})"', html
    )
    assert found, "no params hash on the page"
    return found.group(1)


async def test_cancel_then_nothing_more_and_the_live_part_stops(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    token = csrf_of((await lead.get("/actions")).text)
    action_id = await propose(lead, token, kind="halt_trading")
    live = await lead.get(f"/ui/actions/{action_id}")
    assert live.status_code == 200 and "<html" not in live.text and 'id="action-status"' in live.text
    cancelled = await lead.post(
        f"/actions/{action_id}/cancel", data={"csrf_token": token, "reason": "false alarm"}
    )
    assert cancelled.status_code == 303
    page = await lead.get(cancelled.headers["location"])
    assert "Action cancelled." in page.text and 'data-status="cancelled"' in page.text
    assert 'id="btn-execute"' not in page.text and 'id="btn-cancel"' not in page.text
    assert (await lead.get(f"/ui/actions/{action_id}")).status_code == 286  # final: htmx stops polling
    twice = await lead.post(f"/actions/{action_id}/cancel", data={"csrf_token": token})
    assert twice.status_code == 409 and f"Action {action_id} is cancelled" in twice.text
    listing = await lead.get("/ui/actions?status=cancelled")
    assert f'data-action-id="{action_id}"' in listing.text
    assert f'data-action-id="{action_id}"' not in (await lead.get("/ui/actions?status=proposed")).text
    assert "Status &#39;lost&#39; is not one of" in (await lead.get("/ui/actions?status=lost")).text


async def test_bad_proposals_are_explained(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    incident_id = await declare(lead)
    token = csrf_of((await lead.get(f"/incidents/{incident_id}")).text)
    bad_json = await lead.post(
        "/actions",
        data={
            "csrf_token": token,
            "kind": "isolate",
            "params": "{endpoint: node1",
            "incident_id": str(incident_id),
        },
    )
    assert bad_json.status_code == 422 and "are not JSON" in bad_json.text
    assert 'id="incident-error"' in bad_json.text  # shown on the incident page it came from
    invalid = await lead.post(
        "/actions",
        data={"csrf_token": token, "kind": "isolate", "params": '{"endpoint": "a", "contract": "b"}'},
    )
    assert invalid.status_code == 422 and "give exactly one of" in invalid.text
    unknown = await lead.post("/actions", data={"csrf_token": token, "kind": "launch_rockets"})
    assert unknown.status_code == 422 and "Unknown action kind &#39;launch_rockets&#39;" in unknown.text
    policy = await lead.post("/actions", data={"csrf_token": token, "kind": "policy_enable"})
    assert policy.status_code == 422 and "policies section" in policy.text
    nowhere = await lead.post(
        "/actions", data={"csrf_token": token, "kind": "pause_all", "incident_id": "424242"}
    )
    assert nowhere.status_code == 404 and "No incident with id 424242" in nowhere.text
    async with rig.sessions() as session:
        assert await service.list_actions(session) == []
    missing = await lead.get("/actions/424242")
    assert missing.status_code == 404 and "No emergency action with id &#39;424242&#39;" in missing.text


async def test_readers_cannot_act_and_forms_need_the_csrf_token(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    token = csrf_of((await lead.get("/actions")).text)
    action_id = await propose(lead, token, kind="halt_trading")
    forged = await lead.post(f"/actions/{action_id}/cancel", data={"csrf_token": "forged"})
    assert forged.status_code == 403 and "Form expired" in forged.text
    # the viewer holds actions.read only (legal and compliance approve token issuance: actions.approve)
    async with client_for(rig) as reader:
        assert (await sign_in(reader, VIEWER)).status_code == 303
        page = await reader.get(f"/actions/{action_id}")
        assert page.status_code == 200 and 'href="/actions"' in page.text
        for button in ("btn-approve", "btn-execute", "btn-cancel", "btn-dry-run"):
            assert f'id="{button}"' not in page.text, button
        assert 'id="btn-propose"' not in (await reader.get("/actions")).text
        l_token = csrf_of(page.text)
        for path, permission in [
            (f"/actions/{action_id}/approve", "actions.approve"),
            (f"/actions/{action_id}/execute", "actions.execute"),
            (f"/actions/{action_id}/dry-run", "actions.execute"),
            (f"/actions/{action_id}/cancel", "actions.propose"),
            ("/actions", "actions.propose"),
            ("/policies/reserve-drain-pause", "policies.manage"),
        ]:
            refused = await reader.post(path, data={"csrf_token": l_token, "kind": "pause_all"})
            assert refused.status_code == 403 and permission in refused.text, path
    async with rig.sessions() as session:
        assert [a.status for a in await service.list_actions(session)] == ["approved"]  # not cancelled


async def test_policies_start_disabled_and_enabling_is_an_action(
    rig: ApiRig, lead: httpx.AsyncClient, auditor: httpx.AsyncClient
) -> None:
    assert 'id="policies-empty"' in (await lead.get("/actions")).text  # the rig ships no emergency.yaml
    (rig.context.settings.config_dir / "emergency.yaml").write_text(POLICIES)
    rig.context.config = load_config_set(rig.context.settings.config_dir)  # config is read at start-up
    page = await auditor.get("/actions")
    assert 'data-policy="reserve-drain-pause" data-enabled="no"' in page.text
    assert 'id="btn-policy-reserve-drain-pause">Propose enable<' in page.text
    assert (
        'id="btn-policy-reserve-drain-pause"' not in (await lead.get("/actions")).text
    )  # no policies.manage
    token = csrf_of(page.text)
    done = await auditor.post("/policies/reserve-drain-pause", data={"csrf_token": token, "enable": "1"})
    assert done.status_code == 303
    found = ACTION.match(done.headers["location"])
    assert found
    action_id = int(found.group(1))
    async with rig.sessions() as session:
        view = await service.get_action(session, action_id, clock=rig.clock)
    assert (view.kind, view.params, view.rule_satisfied) == (
        "policy_enable",
        {"policy": "reserve-drain-pause"},
        False,
    )
    after = await auditor.get("/actions")
    assert 'data-policy="reserve-drain-pause" data-enabled="no"' in after.text  # not until approved and run
    assert f'href="/actions/{action_id}">enable proposed (#{action_id}, proposed)' in after.text
    unknown = await auditor.post("/policies/nope", data={"csrf_token": token, "enable": "1"})
    assert unknown.status_code == 404 and "No automatic-response policy named &#39;nope&#39;" in unknown.text
    (rig.context.settings.config_dir / "emergency.yaml").write_text("policies: [{name: x}]\n")
    later = await auditor.get("/actions")  # the config read at start-up stays in force: no re-read
    assert later.status_code == 200 and 'data-policy="reserve-drain-pause"' in later.text


async def test_a_role_the_rule_does_not_take_sees_why_and_is_refused(
    rig: ApiRig, lead: httpx.AsyncClient, ops: httpx.AsyncClient
) -> None:
    # pause_all takes a security officer or technical lead: the operations manager may propose it, but
    # their approval does not count, so the page says so instead of offering Approve
    token = csrf_of((await ops.get("/actions")).text)
    action_id = await propose(ops, token, kind="pause_all", reason="reserve drained")
    page = await ops.get(f"/actions/{action_id}")
    assert 'id="rule-state">not yet satisfied<' in page.text and 'id="btn-approve"' not in page.text
    assert "this rule takes security_officer or technical_lead" in page.text
    refused = await ops.post(
        f"/actions/{action_id}/approve", data={"csrf_token": token, "params_hash": _hash(page.text)}
    )
    assert refused.status_code == 409
    assert f"&#39;{OPS}&#39; cannot approve pause_all (action {action_id})" in refused.text
    lead_page = await lead.get(f"/actions/{action_id}")
    assert 'id="btn-approve"' in lead_page.text
    async with rig.sessions() as session:
        assert (await service.get_action(session, action_id)).status == "proposed"


async def test_changed_parameters_void_the_approvals(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    token = csrf_of((await lead.get("/actions")).text)
    action_id = await propose(lead, token, kind="isolate", params='{"endpoint": "node0"}')
    page = await lead.get(f"/actions/{action_id}")
    old_hash = _hash(page.text)
    assert 'id="amend-form"' in page.text and 'id="rule-state">rule satisfied<' in page.text
    same = await lead.post(
        f"/actions/{action_id}/amend", data={"csrf_token": token, "params": '{"endpoint": "node0"}'}
    )
    assert same.status_code == 422 and "already has these parameters" in same.text
    changed = await lead.post(
        f"/actions/{action_id}/amend",
        data={"csrf_token": token, "params": '{"endpoint": "node1"}', "reason": "wrong node"},
    )
    assert changed.status_code == 303
    page = await lead.get(changed.headers["location"])
    assert "earlier approvals no longer count" in page.text
    new_hash = _hash(page.text)
    assert new_hash != old_hash and 'id="rule-state">not yet satisfied<' in page.text
    voided = re.search(rf'data-approver="{LEAD}" data-valid="no">(.*?)</tr>', page.text, re.S)
    assert voided and f"approved parameters {old_hash[:12]} but they are now {new_hash[:12]}" in voided.group(
        1
    )
    assert 'id="btn-approve"' in page.text  # their old approval no longer counts: they may approve again
    stale = await lead.post(
        f"/actions/{action_id}/approve", data={"csrf_token": token, "params_hash": old_hash}
    )
    assert stale.status_code == 409 and f"you approved hash {old_hash[:12]}" in stale.text
    fresh = await lead.post(
        f"/actions/{action_id}/approve", data={"csrf_token": token, "params_hash": new_hash}
    )
    assert fresh.status_code == 303
    async with rig.sessions() as session:
        view = await service.get_action(session, action_id, clock=rig.clock)
    assert view.params == {"endpoint": "node1"} and view.rule_satisfied
    assert [a.valid for a in view.approvals] == [False, True]
    no_params = await propose(lead, token, kind="halt_trading")
    assert 'id="amend-form"' not in (await lead.get(f"/actions/{no_params}")).text


async def test_proposed_against_the_incidents_alert(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    alert_id = rig.alert_ids[2]
    incident_id = await declare(lead, alert=[str(alert_id)])
    page = await lead.get(f"/incidents/{incident_id}")
    assert re.search(
        rf'<select name="trigger_alert_id" id="propose-trigger"[^>]*>\s*<option value="{alert_id}">',
        page.text,
    )
    action_id = await propose(
        lead,
        csrf_of(page.text),
        kind="pause_all",
        incident_id=str(incident_id),
        trigger_alert_id=str(alert_id),
    )
    shown = await lead.get(f"/actions/{action_id}")
    assert f'href="/alerts/{alert_id}">alert #{alert_id}</a>' in shown.text
    assert re.search(r'id="alert-to-confirmed"><span class="muted">not confirmed yet<', shown.text)
    async with rig.sessions() as session:
        assert (await service.get_action(session, action_id)).trigger_alert_id == alert_id
