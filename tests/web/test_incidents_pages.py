"""Incident pages through the real app: the list (open first) and the declare form (preselected from an
alert), one incident with its phase steps and required outputs, the refusal to advance while outputs are
missing (the service's message on the page), recording outputs, roles, notes, tasks and status updates,
the live timeline fragment, reports, and who may do what (viewer refused, CSRF required)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from api.rig import ApiRig
from fictra.audit.service import list_entries
from fictra.incidents import service
from fictra.incidents.models import Incident
from web.conftest import AUDITOR, LEAD, client_for, csrf_of, sign_in

ROW = re.compile(r'data-incident-id="(\d+)"')
LOCATION = re.compile(r"^/incidents/(\d+)$")


def rows(html: str) -> list[int]:
    return [int(i) for i in ROW.findall(html)]


def output_status(html: str, key: str) -> str:
    found = re.search(rf'data-output="{key}" data-status="(\w+)"', html)
    assert found, f"output {key} not on the page"
    return found.group(1)


async def declare(client: httpx.AsyncClient, **fields: object) -> int:
    form = await client.get("/incidents")
    data: dict[str, object] = {
        "csrf_token": csrf_of(form.text),
        "title": "Reserve drained",
        "severity": "P0",
        "category": "smart_contract",
        "summary": "Reserve balance fell 40% in one block.",
        **fields,
    }
    done = await client.post("/incidents", data=data)
    assert done.status_code == 303, done.text
    found = LOCATION.match(done.headers["location"])
    assert found, done.headers["location"]
    return int(found.group(1))


async def test_declare_from_an_alert_then_the_incident_page(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    alert_id = rig.alert_ids[1]
    new = await lead.get(f"/incidents/new?alert={alert_id}")
    assert new.status_code == 200
    # preselected: the alert is ticked, its summary suggests the title, its severity the severity
    assert re.search(rf'name="alert" value="{alert_id}" checked', new.text)
    assert 'value="Feed GOLD deviates (1)"' in new.text
    assert re.search(r'<option value="P1" selected>', new.text)
    assert re.search(r'<option value="oracle" selected>', new.text)  # oracle-health -> oracle

    incident_id = await declare(lead, alert=[str(alert_id)], severity="P1", category="oracle")
    page = await lead.get(f"/incidents/{incident_id}")
    assert page.status_code == 200
    assert "Reserve drained" in page.text and f'href="/alerts/{alert_id}"' in page.text
    assert re.search(r'<li class="current" data-phase="detection" aria-current="step">', page.text)
    assert re.search(r'<li class="todo" data-phase="response"', page.text)
    # the current phase's outputs: classification done at declaration, the others missing with a form
    assert output_status(page.text, "classification") == "done"
    assert output_status(page.text, "triage") == "missing"
    assert 'id="output-form-triage"' in page.text
    assert 'id="output-form-classification"' not in page.text
    assert "Advance to Response" in page.text and 'id="btn-close"' not in page.text
    assert 'id="btn-propose"' in page.text  # actions.propose: the emergency actions panel offers it
    assert "<b>incident.declared</b>" in page.text  # the timeline
    async with rig.sessions() as session:
        entries = await list_entries(session, action="incident.declare")
    assert [(e.actor, e.target) for e in entries] == [(LEAD, f"incident:{incident_id}")]

    listing = await lead.get("/incidents")
    assert rows(listing.text) == [incident_id]
    assert "Detection" in listing.text and 'class="countdown"' in listing.text  # next update due


async def test_declare_refusals_keep_the_form(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    form = await lead.get("/incidents")
    token = csrf_of(form.text)
    empty = await lead.post(
        "/incidents",
        data={"csrf_token": token, "title": " ", "severity": "P0", "category": "market", "summary": "kept"},
    )
    assert empty.status_code == 422
    assert "The incident title is empty" in empty.text and ">kept</textarea>" in empty.text
    bad = await lead.post(
        "/incidents", data={"csrf_token": token, "title": "x", "severity": "P7", "category": "market"}
    )
    assert bad.status_code == 422 and "Severity &#39;P7&#39; is not one of" in bad.text
    missing = await lead.post(
        "/incidents",
        data={"csrf_token": token, "title": "x", "severity": "P0", "category": "market", "alert": "999999"},
    )
    assert missing.status_code == 404 and "No alert with id 999999" in missing.text
    async with rig.sessions() as session:
        assert await service.list_incidents(session) == []


async def test_advance_is_refused_with_the_missing_outputs_then_allowed(
    rig: ApiRig, lead: httpx.AsyncClient
) -> None:
    incident_id = await declare(lead)
    page = await lead.get(f"/incidents/{incident_id}")
    token = csrf_of(page.text)
    refused = await lead.post(
        f"/incidents/{incident_id}/advance", data={"csrf_token": token, "to_phase": "response"}
    )
    assert refused.status_code == 409
    error = re.search(r'id="incident-error"[^>]*>(.*?)</div>', refused.text, re.S)
    assert error, refused.text
    message = error.group(1)
    assert f"Incident {incident_id} cannot leave phase detection" in message
    for key in ("triage", "impact_assessment", "team_activation", "initial_notification"):
        assert key in message
    assert "classification" not in message.split("missing")[1]  # done at declaration: not listed

    # record what the detection phase needs, through the page's forms
    for key, text in [("triage", "Verified on two nodes"), ("impact_assessment", "Reserve short by 40%")]:
        done = await lead.post(
            f"/incidents/{incident_id}/outputs", data={"csrf_token": token, "key": key, "text": text}
        )
        assert done.status_code == 303 and done.headers["location"].endswith("?done=output#outputs")
    for role, user in [("commander", LEAD), ("responder", AUDITOR)]:
        done = await lead.post(
            f"/incidents/{incident_id}/roles", data={"csrf_token": token, "role": role, "username": user}
        )
        assert done.status_code == 303, done.text
    sent = await lead.post(
        f"/incidents/{incident_id}/updates",
        data={"csrf_token": token, "group": ["technical_team"], "template": "initial", "message": "Paused."},
    )
    assert sent.status_code == 303, sent.text
    page = await lead.get(f"/incidents/{incident_id}")
    for key in ("triage", "impact_assessment", "team_activation", "initial_notification"):
        assert output_status(page.text, key) == "done", key
    assert f'id="role-commander">{LEAD}<' in page.text
    assert f'id="role-responders">{AUDITOR}<' in page.text

    moved = await lead.post(
        f"/incidents/{incident_id}/advance",
        data={"csrf_token": token, "to_phase": "response", "note": "contained"},
    )
    assert moved.status_code == 303
    page = await lead.get(moved.headers["location"])
    assert "Phase changed." in page.text
    assert re.search(r'<li class="current" data-phase="response"', page.text)
    assert "Advance to Recovery" in page.text
    timeline = await lead.get(f"/ui/incidents/{incident_id}/timeline")
    assert timeline.status_code == 200 and "<html" not in timeline.text
    assert 'data-kind="incident.phase"' in timeline.text and "detection -&gt; response" in timeline.text
    async with rig.sessions() as session:
        assert (await session.get(Incident, incident_id)).phase == "response"  # type: ignore[union-attr]
        entries = await list_entries(session, action="incident.advance")
    assert len(entries) == 1 and entries[0].actor == LEAD


async def test_output_refusals_are_shown_not_raised(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    incident_id = await declare(lead)
    token = csrf_of((await lead.get(f"/incidents/{incident_id}")).text)
    derived = await lead.post(
        f"/incidents/{incident_id}/outputs",
        data={"csrf_token": token, "key": "corrective_actions", "text": "we will"},
    )
    assert derived.status_code == 409 and "cannot be typed in" in derived.text
    skip = await lead.post(
        f"/incidents/{incident_id}/outputs",
        data={"csrf_token": token, "key": "triage", "text": "no", "not_required": "1"},
    )
    assert skip.status_code == 409 and "is always required" in skip.text
    unknown = await lead.post(
        f"/incidents/{incident_id}/roles",
        data={"csrf_token": token, "role": "commander", "username": "ghost"},
    )
    assert unknown.status_code == 404 and "No user &#39;ghost&#39;" in unknown.text
    wrong_phase = await lead.post(
        f"/incidents/{incident_id}/advance", data={"csrf_token": token, "to_phase": "recovery"}
    )
    assert wrong_phase.status_code == 409 and "can only advance to response" in wrong_phase.text


async def test_tasks_notes_and_close_refusal(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    incident_id = await declare(lead)
    token = csrf_of((await lead.get(f"/incidents/{incident_id}")).text)
    due = (rig.clock.now() + timedelta(days=7)).date().isoformat()
    added = await lead.post(
        f"/incidents/{incident_id}/tasks",
        data={"csrf_token": token, "title": "Add a reserve floor check", "owner": LEAD, "due": due},
    )
    assert added.status_code == 303, added.text
    past = await lead.post(
        f"/incidents/{incident_id}/tasks",
        data={"csrf_token": token, "title": "Too late", "owner": LEAD, "due": "2000-01-01"},
    )
    assert past.status_code == 422 and "is in the past" in past.text
    nodate = await lead.post(
        f"/incidents/{incident_id}/tasks",
        data={"csrf_token": token, "title": "No date", "owner": LEAD, "due": "soon"},
    )
    assert nodate.status_code == 422 and "is not a date" in nodate.text
    page = await lead.get(f"/incidents/{incident_id}")
    task_id = int(re.findall(r'data-task-id="(\d+)" data-status="open"', page.text)[0])
    assert output_status(page.text, "corrective_actions") == "done"  # a task satisfies it
    done = await lead.post(f"/incidents/{incident_id}/tasks/{task_id}/done", data={"csrf_token": token})
    assert done.status_code == 303
    assert (
        f'data-task-id="{task_id}" data-status="done"' in (await lead.get(f"/incidents/{incident_id}")).text
    )

    note = await lead.post(
        f"/incidents/{incident_id}/notes", data={"csrf_token": token, "text": "Issuer on the bridge."}
    )
    assert note.status_code == 303
    assert "Issuer on the bridge." in (await lead.get(f"/ui/incidents/{incident_id}/timeline")).text
    empty = await lead.post(f"/incidents/{incident_id}/notes", data={"csrf_token": token, "text": ""})
    assert empty.status_code == 422 and "The note is empty" in empty.text

    refused = await lead.post(f"/incidents/{incident_id}/close", data={"csrf_token": token})
    assert refused.status_code == 409 and f"Incident {incident_id} cannot close" in refused.text
    async with rig.sessions() as session:
        assert (await session.get(Incident, incident_id)).status == "open"  # type: ignore[union-attr]


async def test_viewer_reads_but_cannot_declare_or_change(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    incident_id = await declare(lead)
    async with client_for(rig) as viewer:
        assert (await sign_in(viewer, "u-viewer")).status_code == 303
        listing = await viewer.get("/incidents")
        assert listing.status_code == 200 and rows(listing.text) == [incident_id]
        assert 'id="declare-form"' not in listing.text
        assert 'href="/incidents"' in listing.text  # in the menu (incidents.read)
        page = await viewer.get(f"/incidents/{incident_id}")
        assert page.status_code == 200
        for form in (
            "output-form-triage",
            "btn-advance",
            "role-form",
            "note-form",
            "btn-propose",
            "btn-evidence",
        ):
            assert f'id="{form}"' not in page.text, form
        token = csrf_of(page.text)  # the logout form's token: valid, but the role lacks the permission
        for path, data, permission in [
            ("/incidents", {"title": "x", "severity": "P0", "category": "market"}, "incidents.declare"),
            (f"/incidents/{incident_id}/advance", {"to_phase": "response"}, "incidents.manage"),
            (f"/incidents/{incident_id}/outputs", {"key": "triage", "text": "x"}, "incidents.manage"),
            (f"/incidents/{incident_id}/updates", {"group": "technical_team"}, "incidents.communicate"),
            (f"/incidents/{incident_id}/close", {}, "incidents.manage"),
        ]:
            refused = await viewer.post(path, data={"csrf_token": token, **data})
            assert refused.status_code == 403 and permission in refused.text, path
        assert (await viewer.get("/incidents/new")).status_code == 403
    async with rig.sessions() as session:
        assert [i.id for i in await service.list_incidents(session)] == [incident_id]
        assert (await service.get_incident(session, incident_id)).phase == "detection"


async def test_forms_need_the_csrf_token(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    incident_id = await declare(lead)
    forged = await lead.post(
        f"/incidents/{incident_id}/outputs", data={"csrf_token": "forged", "key": "triage", "text": "x"}
    )
    assert forged.status_code == 403 and "Form expired" in forged.text
    none = await lead.post("/incidents", data={"title": "x", "severity": "P0", "category": "market"})
    assert none.status_code == 403 and "Form expired" in none.text
    page = await lead.get(f"/incidents/{incident_id}")
    assert output_status(page.text, "triage") == "missing"
    async with rig.sessions() as session:
        assert len(await service.list_incidents(session)) == 1


async def test_list_orders_open_first_and_filters(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    first = await declare(lead, title="Old P2", severity="P2")
    second = await declare(lead, title="New P0", severity="P0")
    third = await declare(lead, title="Closed one", severity="P0")
    async with rig.sessions.begin() as session:
        row = await session.get(Incident, third)
        assert row is not None
        row.status, row.phase = "closed", "closed"
    assert rows((await lead.get("/incidents")).text) == [second, first, third]
    assert rows((await lead.get("/ui/incidents?status=open")).text) == [second, first]
    assert rows((await lead.get("/ui/incidents?status=closed")).text) == [third]
    bad = await lead.get("/ui/incidents?status=lost")
    assert "Status &#39;lost&#39; is not open or closed" in bad.text


async def test_unknown_incident_and_signed_out(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    missing = await lead.get("/incidents/424242")
    assert missing.status_code == 404 and "No incident with id 424242" in missing.text
    token = csrf_of((await lead.get("/incidents")).text)
    post = await lead.post("/incidents/424242/notes", data={"csrf_token": token, "text": "x"})
    assert post.status_code == 404 and "No incident with id 424242" in post.text
    fmt = await lead.get("/incidents/424242/report.docx")
    assert fmt.status_code == 404 and "is not one of md, html, pdf" in fmt.text
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=rig.app), base_url="http://t") as anon:
        assert (await anon.get("/incidents")).headers["location"].startswith("/login?next=")
        htmx = await anon.get("/ui/incidents/1/timeline", headers={"HX-Request": "true"})
        assert htmx.status_code == 401 and htmx.headers["HX-Redirect"] == "/login"


async def test_evidence_listed_with_its_hash_and_document(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    from fictra.incidents.evidence import document_hash
    from fictra.incidents.models import IncidentEvidence

    incident_id = await declare(lead)
    page = await lead.get(f"/incidents/{incident_id}")
    assert 'id="incident-evidence-empty"' in page.text
    # without the platform (no RPC pool) "collect now" explains instead of failing
    refused = await lead.post(f"/incidents/{incident_id}/evidence", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 409 and "Evidence needs the chain" in refused.text
    document = '{"blocks":[],"state":{"paused":true}}'
    async with rig.sessions.begin() as session:
        row = IncidentEvidence(
            incident_id=incident_id,
            collected_at=rig.clock.now(),
            collected_by=LEAD,
            trigger="declaration",
            sha256=document_hash(document),
            document=document,
            summary={"blocks": 0, "paused": True},
        )
        session.add(row)
        await session.flush()
        evidence_id = row.id
    page = await lead.get(f"/incidents/{incident_id}")
    assert f'data-evidence-id="{evidence_id}"' in page.text
    assert f'data-copy="{document_hash(document)}"' in page.text and "paused=True" in page.text
    body = await lead.get(f"/incidents/{incident_id}/evidence/{evidence_id}")
    assert body.status_code == 200 and body.text == document
    assert body.headers["content-type"].startswith("application/json")
    other = await lead.get(f"/incidents/{incident_id}/evidence/{evidence_id + 1}")
    assert other.status_code == 404 and f"has no evidence {evidence_id + 1}" in other.text


async def test_alert_page_offers_declare_incident_to_who_may(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    alert_id = rig.alert_ids[0]
    page = await lead.get(f"/alerts/{alert_id}")
    assert f'id="declare-incident" href="/incidents/new?alert={alert_id}"' in page.text
    async with client_for(rig) as viewer:
        assert (await sign_in(viewer, "u-viewer")).status_code == 303
        assert 'id="declare-incident"' not in (await viewer.get(f"/alerts/{alert_id}")).text


async def test_reports_in_three_formats_and_who_records_them(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    incident_id = await declare(lead, title="Oracle stale for GOLD")
    page = await lead.get(f"/incidents/{incident_id}")
    for fmt in ("md", "html", "pdf"):
        assert f'href="/incidents/{incident_id}/report.{fmt}"' in page.text
    md = await lead.get(f"/incidents/{incident_id}/report.md")
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "Oracle stale for GOLD" in md.text
    assert md.headers["content-disposition"] == f'attachment; filename="incident-{incident_id}.md"'
    html = await lead.get(f"/incidents/{incident_id}/report.html")
    assert html.status_code == 200 and "<h1" in html.text and "Oracle stale for GOLD" in html.text
    pdf = await lead.get(f"/incidents/{incident_id}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    timeline = (await lead.get(f"/ui/incidents/{incident_id}/timeline")).text
    assert timeline.count('data-kind="incident.report"') == 3  # the responder's downloads are on record
    async with client_for(rig) as viewer:  # a reader gets the document; nothing is recorded
        assert (await sign_in(viewer, "u-viewer")).status_code == 303
        assert (await viewer.get(f"/incidents/{incident_id}/report.md")).status_code == 200
    timeline = (await lead.get(f"/ui/incidents/{incident_id}/timeline")).text
    assert timeline.count('data-kind="incident.report"') == 3
    missing = await lead.get("/incidents/424242/report.md")
    assert missing.status_code == 404 and "No incident with id 424242" in missing.text


async def test_emergency_meeting_for_a_market_event(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    incident_id = await declare(lead, title="Trading halted", category="market")
    page = await lead.get(f"/incidents/{incident_id}")
    assert re.search(r"<details open>\s*<summary>Emergency meeting \(market event\)", page.text)
    token = csrf_of(page.text)
    starts = (rig.clock.now() + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M")
    done = await lead.post(
        f"/incidents/{incident_id}/meetings",
        data={
            "csrf_token": token,
            "starts_at": starts,
            "bridge": "https://bridge.example/fictra",
            "attendees": "technical_team, market_participants",
            "agenda": "Resume criteria",
        },
    )
    assert done.status_code == 303, done.text
    page = await lead.get(done.headers["location"])
    meetings = re.search(r'<ul id="incident-meetings">(.*?)</ul>', page.text, re.S)
    assert meetings and "https://bridge.example/fictra" in meetings.group(1)
    assert "technical_team, market_participants" in meetings.group(1)
    unknown = await lead.post(
        f"/incidents/{incident_id}/meetings",
        data={"csrf_token": token, "bridge": "tel:123", "attendees": "nobody-here"},
    )
    assert unknown.status_code == 422 and "Unknown attendee &#39;nobody-here&#39;" in unknown.text
    bad_time = await lead.post(
        f"/incidents/{incident_id}/meetings",
        data={"csrf_token": token, "starts_at": "tomorrow", "bridge": "tel:1", "attendees": "technical_team"},
    )
    assert bad_time.status_code == 422 and "is not a date and time" in bad_time.text


async def test_reclassify_and_link_more_alerts(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    incident_id = await declare(lead, alert=[str(rig.alert_ids[0])])
    token = csrf_of((await lead.get(f"/incidents/{incident_id}")).text)
    same = await lead.post(
        f"/incidents/{incident_id}/classification",
        data={"csrf_token": token, "severity": "P0", "category": "smart_contract"},
    )
    assert same.status_code == 422 and "Nothing to change" in same.text
    done = await lead.post(
        f"/incidents/{incident_id}/classification",
        data={"csrf_token": token, "severity": "P2", "category": "oracle", "reason": "only one feed"},
    )
    assert done.status_code == 303, done.text
    page = await lead.get(done.headers["location"])
    assert "Classification changed." in page.text and '<span class="sev P2">P2</span>' in page.text
    assert re.search(r'data-output="classification" data-status="done">.*?P2 / oracle', page.text, re.S)
    linked = await lead.post(
        f"/incidents/{incident_id}/alerts",
        data={"csrf_token": token, "alert_ids": f"#{rig.alert_ids[1]}, {rig.alert_ids[2]}"},
    )
    assert linked.status_code == 303
    page = await lead.get(f"/incidents/{incident_id}")
    for alert_id in rig.alert_ids:
        assert f'href="/alerts/{alert_id}"' in page.text
    words = await lead.post(f"/incidents/{incident_id}/alerts", data={"csrf_token": token, "alert_ids": "x"})
    assert words.status_code == 422 and "are not numbers" in words.text
    unknown = await lead.post(
        f"/incidents/{incident_id}/alerts", data={"csrf_token": token, "alert_ids": "999999"}
    )
    assert unknown.status_code == 404 and "No alert with id 999999" in unknown.text
    async with rig.sessions() as session:
        view = await service.get_incident(session, incident_id)
    assert (view.severity, view.category, view.alert_ids) == ("P2", "oracle", sorted(rig.alert_ids))


async def test_workspace_summary_waits_for_tabs_and_no_cli_hints(
    rig: ApiRig, lead: httpx.AsyncClient
) -> None:
    incident_id = await declare(lead)
    token = csrf_of((await lead.get(f"/incidents/{incident_id}")).text)
    note = await lead.post(
        f"/incidents/{incident_id}/notes", data={"csrf_token": token, "text": "looked at it"}
    )
    assert note.status_code == 303, note.text
    page = (await lead.get(f"/incidents/{incident_id}")).text
    assert 'id="incident-summary"' in page and 'id="waits-for"' in page
    waits = page[page.index('id="waits-for"') :].split("</p>", 1)[0]
    assert "Waits for:" in waits and len(waits) > 40  # the current phase's missing outputs, by title
    outputs = page[page.index('id="outputs"') :].split("</section>", 1)[0]
    assert "fictra incidents" not in outputs and "POST /api" not in outputs  # web forms: no CLI hints
    assert 'data-tab="notes"' in page and 'aria-current="page" class="current">All<' in page
    notes = (await lead.get(f"/incidents/{incident_id}?show=notes")).text
    kinds = re.findall(r'data-kind="([^"]+)"', notes[notes.index('id="timeline-items"') :])
    assert kinds == ["incident.note"]
    assert f'hx-get="/ui/incidents/{incident_id}/timeline?show=notes"' in notes  # the live refresh keeps it
    fragment = (await lead.get(f"/ui/incidents/{incident_id}/timeline?show=notes")).text
    assert re.findall(r'data-kind="([^"]+)"', fragment) == ["incident.note"]
    everything = (await lead.get(f"/ui/incidents/{incident_id}/timeline?show=bogus")).text
    assert len(re.findall(r'data-kind="', everything)) > 1
