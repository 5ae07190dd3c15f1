"""Procedure pages through the real app: "Today" with each procedure's state and the history, the run page
with evidence hashes, signing off the daily health check's manual step from the page (the run completes,
the sign-off is audited), and the refusals: a role the step does not allow (the service's message on the
page), a viewer (no form, 403), a form without its CSRF token."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx

from api.rig import ApiRig
from fictra.alerting.actions import acknowledge
from fictra.audit.service import list_entries
from fictra.auth.actor import SYSTEM
from fictra.procedures.jobs import ProceduresContext, run_due
from fictra.procedures.models import Outcome, ProcedureRun
from procedures.helpers import AlertIngest, StaticChain, follower, shipped
from web.conftest import AUDITOR, LEAD, VIEWER, client_for, csrf_of, sign_in

DUE = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)


async def _health_run(rig: ApiRig) -> int:
    """The daily health check's run at 08:00, its automated steps passed (the rig's P1 alerts are
    acknowledged first: unacknowledged, they fail its first check)."""
    rig.context.config = dataclasses.replace(rig.context.config_set, procedures=shipped())
    async with rig.sessions.begin() as session:
        for alert_id in rig.alert_ids:
            await acknowledge(session, alert_id=alert_id, actor=SYSTEM, clock=rig.clock, note="seen")
    rig.clock.advance((DUE - rig.clock.now()).total_seconds() + 1800)  # 08:30, within the 4 h grace
    ctx = ProceduresContext(
        config=shipped(),
        clock=rig.clock,
        chain=StaticChain(rig.clock),
        follower_status=follower,
        ingest=AlertIngest(rig.clock),
    )
    proc = ctx.config.get("daily-health")
    assert proc is not None
    return await run_due(sessions=rig.sessions, ctx=ctx, procedure=proc, due_at=DUE)


def state_of(html: str, name: str) -> str:
    found = re.search(rf'data-procedure="{name}" data-state="(\w+)"', html)
    assert found, f"{name} not on the page"
    return found.group(1)


@asynccontextmanager
async def signed_in(rig: ApiRig, username: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client signed in now (after the clock moved to the due time: sessions expire)."""
    async with client_for(rig) as client:
        assert (await sign_in(client, username)).status_code == 303
        yield client


async def test_sign_off_the_daily_health_check_from_the_console(rig: ApiRig) -> None:
    run_id = await _health_run(rig)
    async with signed_in(rig, LEAD) as lead:
        await _sign_off_as_lead(rig, lead, run_id)


async def _sign_off_as_lead(rig: ApiRig, lead: httpx.AsyncClient, run_id: int) -> None:
    today = await lead.get("/procedures")
    assert today.status_code == 200, today.text
    assert 'href="/procedures" class="active" aria-current="page"' in today.text  # nav link
    assert state_of(today.text, "daily-health") == "running"
    assert state_of(today.text, "monthly-review") in ("not_opened", "due")
    assert f'data-run-id="{run_id}" data-outcome="open"' in today.text  # history

    run_page = await lead.get(f"/procedures/runs/{run_id}")
    assert run_page.status_code == 200
    assert re.search(r'data-step="endpoints" data-position="1" data-result="passed"', run_page.text)
    async with rig.sessions() as session:
        run = await session.get(ProcedureRun, run_id)
        assert run is not None
    hashes = re.findall(r'data-sha256="([0-9a-f]{64})"', run_page.text)
    assert len(hashes) == 6  # the six automated checks' evidence, each with its hash
    assert 'id="signoff-review"' in run_page.text and "<script" not in run_page.text.split("</head>")[1]

    done = await lead.post(
        f"/procedures/runs/{run_id}/steps/6/signoff",
        data={"csrf_token": csrf_of(run_page.text), "note": "All green, nothing to explain."},
    )
    assert done.status_code == 303 and done.headers["location"] == f"/procedures/runs/{run_id}"
    after = await lead.get(f"/procedures/runs/{run_id}")
    assert 'id="run-outcome" data-outcome="completed"' in after.text
    assert re.search(r'data-step="review" data-position="6" data-result="signed"', after.text)
    assert "Signed off by <b>u-technical-lead</b>" in after.text and "All green" in after.text
    assert len(re.findall(r'data-sha256="[0-9a-f]{64}"', after.text)) == 7
    assert 'id="signoff-review"' not in after.text
    async with rig.sessions() as session:
        entries = await list_entries(session, action="procedure.step.signoff")
        run = await session.get(ProcedureRun, run_id)
        assert run is not None and run.outcome == Outcome.COMPLETED.value
    assert [(e.actor, e.target) for e in entries] == [(LEAD, f"procedure_run:{run_id}")]
    listing = await lead.get("/procedures")
    assert state_of(listing.text, "daily-health") == "completed"


async def test_refusals_on_the_run_page(rig: ApiRig) -> None:
    run_id = await _health_run(rig)
    url = f"/procedures/runs/{run_id}/steps/6/signoff"
    async with signed_in(rig, AUDITOR) as auditor:
        page = await auditor.get(f"/procedures/runs/{run_id}")
        assert 'id="signoff-review"' in page.text  # holds procedures.signoff: the form is offered
        refused = await auditor.post(url, data={"csrf_token": csrf_of(page.text), "note": "x"})
        assert refused.status_code == 403
        assert 'id="signoff-error"' in refused.text and "may not sign off step" in refused.text
        assert "technical_lead" in refused.text
        no_csrf = await auditor.post(url, data={"note": "x"})
        assert no_csrf.status_code == 403 and "Form expired" in no_csrf.text

    async with signed_in(rig, VIEWER) as viewer:
        seen = await viewer.get(f"/procedures/runs/{run_id}")
        assert seen.status_code == 200 and 'id="signoff-review"' not in seen.text
        denied = await viewer.post(url, data={"csrf_token": csrf_of(seen.text), "note": "x"})
        assert denied.status_code == 403
        missing = await viewer.get("/procedures/runs/99999")
        assert missing.status_code == 404
    async with rig.sessions() as session:
        assert await list_entries(session, action="procedure.step.signoff") == []
