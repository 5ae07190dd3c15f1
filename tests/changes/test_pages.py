"""Change and maintenance pages through the real app (console clients signing in through the login form):
a change requested from the New change form, submitted, assessed and sent to authorization from its page
(the state machine and what each next action waits for shown); a second change on PaymentToken in the
same slot shows its conflict on the change page, the week and month calendars and the iCalendar feed; a
form refusal comes back with the service's message; the maintenance window pages list a window and its
log."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta

import httpx
import pytest
from icalendar import Calendar

from api.rig import ApiRig, add_user
from fictra.auth.actor import SYSTEM
from fictra.changes import service
from fictra.changes.config import ChangesConfig
from fictra.maintenance.config import MaintenanceConfig
from fictra.maintenance.service import create_window
from web.conftest import LEAD, VIEWER, client_for, csrf_of, rig, sign_in, template_db  # noqa: F401

from .conftest import END, START, fee_change, shipped_config

FORM = {
    "title": "PT fee 0.50% -> 0.60%",
    "type": "normal",
    "category": "protocol_parameter",
    "components": "PaymentToken",
    "planned_start": START.strftime("%Y-%m-%dT%H:%M"),
    "planned_end": END.strftime("%Y-%m-%dT%H:%M"),
    "steps": 'Announce\nSet the fee | set_pt_fee | {"fee_bps": 60}',
    "verification": "fee is 60: pt_fee_bps == 60",
    "rollback_plan": "Set the fee back to 50 bps.",
    "rollback_steps": 'Restore | set_pt_fee | {"fee_bps": 50}',
    "notify": "operations, treasury",
}


@pytest.fixture(autouse=True)
def changes_config(rig: ApiRig) -> ChangesConfig:  # noqa: F811
    cfg = shipped_config()
    rig.context.config = dataclasses.replace(rig.context.config_set, changes=cfg)
    return cfg


async def _post(client: httpx.AsyncClient, path: str, page: str, **data: str) -> httpx.Response:
    got = await client.get(page)
    return await client.post(path, data={**data, "csrf_token": csrf_of(got.text)})


async def test_request_assess_and_calendar_conflict(rig: ApiRig, changes_config: ChangesConfig) -> None:  # noqa: F811
    async with client_for(rig) as lead:
        await sign_in(lead, LEAD)
        made = await _post(lead, "/changes", "/changes", **FORM)
        assert made.status_code == 303, made.text
        cid = int(re.fullmatch(r"/changes/(\d+)", made.headers["location"]).group(1))  # type: ignore[union-attr]
        page = (await lead.get(f"/changes/{cid}")).text
        assert 'data-state="draft"' in page and 'data-action="submit" data-possible="yes"' in page
        moved = await _post(lead, f"/changes/{cid}/move/submit", f"/changes/{cid}")
        assert moved.status_code == 303
        # authorization waits for the assessment: the page names what is missing
        refused = await _post(lead, f"/changes/{cid}/move/request_authorization", f"/changes/{cid}")
        assert refused.status_code == 409
        assert "impact not assessed; risk not evaluated" in refused.text
        answers = {f"q_{q.id}": "no" for q in changes_config.questions}
        assert (await _post(lead, f"/changes/{cid}/assess", f"/changes/{cid}", **answers)).status_code == 303
        page = (await lead.get(f"/changes/{cid}")).text
        assert "Risk <b>high</b>" in page and "pt-fee-changed" in page  # the rule watching PaymentToken
        assert (
            await _post(lead, f"/changes/{cid}/move/request_authorization", f"/changes/{cid}")
        ).status_code == 303
        page = (await lead.get(f"/changes/{cid}")).text
        assert 'data-state="authorization"' in page and "approvals missing:" in page
        # a second change on PaymentToken in the same slot
        async with rig.sessions.begin() as s:
            other = await service.create(
                s,
                cfg=changes_config,
                data=fee_change(title="Pause PT transfers"),
                actor=SYSTEM,
                clock=rig.clock,
            )
            await service.transition(
                s, cfg=changes_config, change_id=other.id, action="submit", actor=SYSTEM, clock=rig.clock
            )
        page = (await lead.get(f"/changes/{other.id}")).text
        assert f"change {cid} (PT fee 0.50% -&gt; 0.60%) on PaymentToken" in page
        for view in ("week", "month"):
            cal = await lead.get(f"/changes/calendar?view={view}&date={START.date().isoformat()}")
            assert cal.status_code == 200
            assert f'data-change-id="{other.id}" data-kind="overlap"' in cal.text
            day = re.search(rf'data-day="{START.date().isoformat()}".*?</td>', cal.text, re.S)
            assert day and f'data-id="{cid}" data-conflicts="0"' in day.group(0)
            assert f'data-id="{other.id}" data-conflicts="1"' in day.group(0)
        feed = await lead.get("/changes/calendar.ics")
        assert feed.headers["content-type"].startswith("text/calendar")
        events = [c for c in Calendar.from_ical(feed.content).walk("VEVENT")]
        summaries = {str(e["summary"]): e for e in events}
        mine = summaries[f"Change #{other.id}: Pause PT transfers [assessment]"]
        assert "Conflict (overlap): change" in str(mine["description"])
        assert mine.decoded("dtstart") == START
    token = (await add_user(rig, username="calendar-client", role="viewer")).token  # a calendar client
    async with client_for(rig) as client:
        feed = await client.get("/changes/calendar.ics", headers={"Authorization": f"Bearer {token}"})
        assert feed.status_code == 200 and b"BEGIN:VCALENDAR" in feed.content
    async with client_for(rig) as viewer:
        await sign_in(viewer, VIEWER)
        page = (await viewer.get(f"/changes/{cid}")).text
        assert "btn-approve" not in page and "new-change-form" not in (await viewer.get("/changes")).text


async def test_form_refusals_keep_the_form(rig: ApiRig) -> None:  # noqa: F811
    async with client_for(rig) as lead:
        await sign_in(lead, LEAD)
        bad = await _post(lead, "/changes", "/changes", **{**FORM, "steps": "x | set_pt_fee | {fee"})
        assert bad.status_code == 422 and "steps line 1: the parameters are not JSON" in bad.text
        assert 'value="PT fee 0.50% -&gt; 0.60%"' in bad.text
        bad = await _post(lead, "/changes", "/changes", **{**FORM, "components": "Nowhere"})
        assert bad.status_code == 422 and "Unknown component(s) Nowhere" in bad.text


async def test_maintenance_pages(rig: ApiRig) -> None:  # noqa: F811
    async with rig.sessions.begin() as s:
        w = await create_window(
            s, title="Node upgrade", matchers=['component="local"'], owner="tom", actor=SYSTEM,
            clock=rig.clock, config=MaintenanceConfig(), starts_at=START, duration=timedelta(hours=1),
            timezone="Europe/Zurich",
            rrule="FREQ=WEEKLY;BYDAY=TU",
        )  # fmt: skip
    async with client_for(rig) as lead:
        await sign_in(lead, LEAD)
        listing = (await lead.get("/maintenance")).text
        assert f'data-window-id="{w.id}"' in listing and "FREQ=WEEKLY;BYDAY=TU" in listing
        page = (await lead.get(f"/maintenance/{w.id}")).text
        assert "component=&#34;local&#34;" in page or 'component="local"' in page
        log = await lead.get(f"/maintenance/{w.id}/log")
        assert log.status_code == 200 and "Node upgrade" in log.text
        added = await _post(
            lead, f"/maintenance/{w.id}/entries", f"/maintenance/{w.id}", kind="note", text="prep"
        )
        assert added.status_code == 303
        cal = (await lead.get(f"/changes/calendar?view=month&date={START.date().isoformat()}")).text
        assert cal.count(f'data-kind="window" data-id="{w.id}"') >= 4  # every Tuesday of the month
        new = {"title": "Nightly", "owner": "tom", "scope": 'component="local"', "start": "2026-01-06T08:15",
               "duration": "30", "timezone": "Europe/Zurich", "rrule": "FREQ=DAILY"}  # fmt: skip
        bad = await _post(lead, "/maintenance", "/maintenance", **{**new, "rrule": "FREQ=SOMETIMES"})
        assert bad.status_code == 422 and "FREQ=SOMETIMES" in bad.text and 'value="Nightly"' in bad.text
        clash = await _post(lead, "/maintenance", "/maintenance", **new)  # meets the Tuesday 08:00 window
        assert clash.status_code == 409 and f"overlaps window {w.id} &#39;Node upgrade&#39;" in clash.text
        made = await _post(lead, "/maintenance", "/maintenance", **{**new, "scope": 'component="db"'})
        assert made.status_code == 303
        emergency = await _post(lead, "/maintenance", "/maintenance", **{**new, "emergency": "yes",
                                "scope": 'contract="Reserve"', "rrule": "", "duration": ""})  # fmt: skip
        assert emergency.status_code == 303
        page = (await lead.get(emergency.headers["location"])).text
        assert 'id="window-open"' in page and "emergency" in page
