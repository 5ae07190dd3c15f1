"""Creating and scheduling a change from the console in a real browser (issue 14's acceptance): a standard
change on PaymentToken (the pre-approved template pt-fee-collector) is requested from the New change form,
submitted, assessed, its conflict with a change already awaiting authorization on PaymentToken in the same
slot acknowledged, and scheduled; the week calendar shows both changes on that day with the conflict.
Screenshots in test-artifacts/browser/changes-*.png.

The rig is the API rig (a migrated SQLite file, a real user, the real app) served by uvicorn, as in
test_procedures.py: the change pages need no chain (the offline context says so on the page).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from api.rig import PASSWORD, ApiRig, api_rig
from browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _free_port, _require_chromium
from browser.test_procedures import Served
from changes.conftest import END, NO, START, fee_change, shipped_config
from fictra.api.app import serve
from fictra.audit.service import list_entries
from fictra.auth.actor import SYSTEM
from fictra.changes import assess, service
from fictra.changes.models import ChangeRequest
from fictra.db.engine import migrate

pytestmark = [pytest.mark.e2e]
LEAD = "u-technical-lead"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    _require_chromium()
    from playwright.async_api import async_playwright

    from fictra.auth.service import create_user

    url = f"sqlite:///{tmp_path / 'console.db'}"
    migrate(url)
    port = _free_port()
    async with api_rig(url, roles=[]) as rig:
        rig.context.config = dataclasses.replace(rig.context.config_set, changes=shipped_config())
        async with rig.sessions.begin() as db:
            await create_user(
                db, username=LEAD, roles=["technical_lead"], password=PASSWORD, role_map=rig.roles,
                actor=SYSTEM, clock=rig.clock,
            )  # fmt: skip
        stop = asyncio.Event()
        server = asyncio.create_task(serve(rig.app, host="127.0.0.1", port=port, stop=stop))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        try:
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    yield Served(rig, f"http://127.0.0.1:{port}", browser)
                finally:
                    await browser.close()
        finally:
            stop.set()
            await server


async def _other_change(rig: ApiRig) -> int:
    """A normal change on PaymentToken in the same slot, awaiting authorization."""
    cfg = rig.context.config_set.changes
    async with rig.sessions.begin() as s:
        other = await service.create(s, cfg=cfg, data=fee_change(), actor=SYSTEM, clock=rig.clock)
        await service.transition(
            s, cfg=cfg, change_id=other.id, action="submit", actor=SYSTEM, clock=rig.clock
        )
        await assess.assess(
            s, cfg=cfg, change_id=other.id, answers=NO, watched_by={}, incidents_on=None, actor=SYSTEM,
            clock=rig.clock,
        )  # fmt: skip
        await service.transition(
            s, cfg=cfg, change_id=other.id, action="request_authorization", actor=SYSTEM, clock=rig.clock
        )
        return other.id


async def test_create_and_schedule_a_change_and_see_the_conflict_on_the_calendar(served: Served) -> None:
    rig = served.rig
    other = await _other_change(rig)
    page = await served.signed_in(LEAD)
    await page.click("nav a[href='/changes']")
    await expect(page).to_have_url(f"{served.base_url}/changes")
    await expect(page.locator(f"#changes-list tr[data-change-id='{other}']")).to_have_attribute(
        "data-state", "authorization"
    )

    form = page.locator("#new-change-form")
    await form.locator("input[name=title]").fill("Rotate the PT fee collector")
    await form.locator("select[name=type]").select_option("standard")
    await form.locator("select[name=template]").select_option("pt-fee-collector")
    await form.locator("select[name=category]").select_option("protocol_parameter")
    await form.locator("input[name=components][value=PaymentToken]").check()
    await form.locator("input[name=planned_start]").fill(START.strftime("%Y-%m-%dT%H:%M"))
    await form.locator("input[name=planned_end]").fill(END.strftime("%Y-%m-%dT%H:%M"))
    await form.locator("textarea[name=steps]").fill("Call setFeeCollector from the fee manager")
    await form.locator("textarea[name=verification]").fill("collector checked: manual")
    await form.locator("textarea[name=rollback_plan]").fill("Set the previous collector back.")
    await page.screenshot(path=ARTIFACTS / "changes-new.png", full_page=True)
    await page.click("#btn-new-change")
    await expect(page).to_have_url(f"{served.base_url}/changes/{other + 1}")
    state = page.locator("#change-state")
    await expect(state).to_have_attribute("data-state", "draft")
    await expect(page.locator("#change-template")).to_contain_text("pt-fee-collector")

    await page.click("#btn-submit")
    await expect(state).to_have_attribute("data-state", "assessment")
    schedule_row = page.locator("#waits tr[data-action='schedule']")
    await expect(schedule_row).to_have_attribute("data-possible", "no")
    await expect(schedule_row).to_contain_text("impact not assessed")
    await page.click("#btn-assess")
    await expect(page.locator("#risk")).to_contain_text("Risk")
    conflict = page.locator("#conflicts-list li[data-kind='overlap']")
    await expect(conflict).to_contain_text(f"change {other}")
    await expect(schedule_row).to_contain_text("scheduling conflicts not acknowledged by an approver")

    await page.click("#btn-schedule")  # refused while the conflict is not acknowledged
    await expect(page.locator("#change-error")).to_contain_text("1 conflict(s) not acknowledged")
    await page.locator("#ack-form input[name=note]").fill("Fee collector and fee are independent")
    await page.click("#btn-acknowledge")
    await expect(conflict).to_contain_text("acknowledged")
    await page.click("#btn-schedule")
    await expect(state).to_have_attribute("data-state", "scheduled")
    await page.screenshot(path=ARTIFACTS / "changes-scheduled.png", full_page=True)

    await page.click("nav a[href='/changes']")
    await page.click("#calendar-link")  # the week of the fake clock's today (2026-01-01), then the next one
    await page.click("#cal-next")
    day = page.locator(f"td[data-day='{START.date().isoformat()}']")
    await expect(day.locator(".cal-item[data-kind='change']")).to_have_count(2)
    await expect(day.locator(f".cal-item[data-id='{other}']")).to_have_attribute("data-conflicts", "1")
    await expect(day.locator(f".cal-item[data-id='{other + 1}']")).to_have_attribute("data-conflicts", "1")
    await expect(page.locator(f"#calendar-conflicts li[data-change-id='{other}']")).to_contain_text(
        "Rotate the PT fee collector"
    )
    await page.screenshot(path=ARTIFACTS / "changes-calendar-week.png", full_page=True)
    await page.context.close()

    async with rig.sessions() as session:
        row = await session.get(ChangeRequest, other + 1)
        assert row is not None and row.state == "scheduled" and row.requester == LEAD
        assert row.conflicts_ack is not None and row.conflicts_ack["by"] == LEAD
        entries = await list_entries(session, target=f"change:{other + 1}")
    assert [e.action for e in reversed(entries)] == [
        "change.created", "change.submit", "change.assessed", "change.conflicts_acknowledged",
        "change.schedule",
    ]  # fmt: skip
