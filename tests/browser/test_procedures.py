"""Signing off the daily health check from the console in a real browser (issue 15's acceptance): the run
is built as tests/web/test_procedures_pages.py builds it (the shipped procedures, the automated steps
passed on a static chain view at 08:30 with a fake clock), the app is served on a loopback port, and
Debian's Chromium opens the run from the Procedures page, signs off the manual step with a note and sees
the step signed and the run completed; the sign-off is audited under the lead's name. Screenshots in
test-artifacts/browser/procedures-*.png.

The rig is the API rig (a migrated SQLite file, real users, the real app) served by uvicorn, not a
devnet: the procedure's checks read a static chain view, and the fake clock puts the run inside its
grace whatever the date.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from api.rig import PASSWORD, ApiRig, api_rig
from browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _free_port, _require_chromium
from fictra.api.app import serve
from fictra.audit.service import list_entries
from fictra.auth.actor import SYSTEM
from fictra.db.engine import migrate
from fictra.procedures.models import Outcome, ProcedureRun
from web.test_procedures_pages import _health_run

pytestmark = [pytest.mark.e2e]
LEAD = "u-technical-lead"


@dataclass
class Served:
    rig: ApiRig
    base_url: str
    browser: Any  # playwright Browser

    async def signed_in(self, username: str) -> Any:
        context = await self.browser.new_context(viewport={"width": 1366, "height": 900})
        context.set_default_timeout(15_000)
        page = await context.new_page()
        await page.goto(f"{self.base_url}/login")
        await page.fill("input[name=username]", username)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{self.base_url}/")
        return page


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    _require_chromium()
    from playwright.async_api import async_playwright

    from fictra.auth.service import create_user

    url = f"sqlite:///{tmp_path / 'console.db'}"
    migrate(url)
    port = _free_port()
    async with api_rig(url, roles=[]) as rig:
        async with rig.sessions.begin() as db:
            await create_user(
                db,
                username=LEAD,
                roles=["technical_lead"],
                password=PASSWORD,
                role_map=rig.roles,
                actor=SYSTEM,
                clock=rig.clock,
            )
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


async def test_sign_off_the_daily_health_check_from_the_console(served: Served) -> None:
    rig = served.rig
    run_id = await _health_run(rig)  # the clock now at 08:30: sign in after it moved (sessions expire)
    page = await served.signed_in(LEAD)

    await page.click("nav a[href='/procedures']")
    await expect(page).to_have_url(f"{served.base_url}/procedures")
    row = page.locator("#procedures-today tr[data-procedure='daily-health']")
    await expect(row).to_have_attribute("data-state", "running")
    await page.screenshot(path=ARTIFACTS / "procedures-today.png", full_page=True)

    await row.locator(f"a[href='/procedures/runs/{run_id}']").click()
    await expect(page).to_have_url(f"{served.base_url}/procedures/runs/{run_id}")
    await expect(page.locator("#run-outcome")).to_have_attribute("data-outcome", "open")
    review = page.locator("li[data-step='review']")
    await expect(review).to_have_attribute("data-result", "pending")
    passed = page.locator("#run-steps li[data-result='passed']")
    await expect(passed).to_have_count(6)  # the six automated checks, each with its evidence hash
    await expect(page.locator("#run-steps [data-sha256]")).to_have_count(6)

    await review.locator("textarea[name=note]").fill("All green, nothing to explain.")
    await page.screenshot(path=ARTIFACTS / "procedures-run-before-signoff.png", full_page=True)
    await page.click("#btn-signoff-review")

    await expect(page).to_have_url(f"{served.base_url}/procedures/runs/{run_id}")
    await expect(page.locator("#run-outcome")).to_have_attribute("data-outcome", "completed")
    await expect(page.locator("#run-outcome")).to_have_text("completed")
    await expect(review).to_have_attribute("data-result", "signed")
    await expect(review).to_contain_text(re.compile(r"Signed off by u-technical-lead .*All green"))
    await expect(page.locator("#signoff-review")).to_have_count(0)  # nothing left to sign
    await expect(page.locator("#run-steps [data-sha256]")).to_have_count(7)  # the sign-off's evidence too
    await page.screenshot(path=ARTIFACTS / "procedures-run-signed.png", full_page=True)

    await page.click("a[href='/procedures']:has-text('Today')")
    await expect(row).to_have_attribute("data-state", "completed")
    await page.context.close()

    async with rig.sessions() as session:
        run = await session.get(ProcedureRun, run_id)
        assert run is not None and run.outcome == Outcome.COMPLETED.value
        entries = await list_entries(session, action="procedure.step.signoff")
    assert [(e.actor, e.target) for e in entries] == [(LEAD, f"procedure_run:{run_id}")]
