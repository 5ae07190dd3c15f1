"""The compliance console in a real browser: the compliance officer signs in, opens Compliance from the
nav, sees the screening hit of a KYC'd participant's address, dispositions it as a false positive with the
form, and opens the list version's diff. Screenshots in test-artifacts/browser/compliance-*.png."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from api.rig import PASSWORD, api_rig
from browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _free_port, _require_chromium
from browser.test_procedures import Served
from compliance.helpers import FIXTURES, LISTED
from fictra.api.app import serve
from fictra.auth.actor import SYSTEM
from fictra.compliance.kyc import KycInput, upsert_kyc
from fictra.compliance.lists import import_list
from fictra.compliance.screening import load_index, rescreen
from fictra.db.engine import migrate

pytestmark = [pytest.mark.e2e]
OFFICER = "u-compliance"


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
                username=OFFICER,
                roles=["compliance_officer"],
                password=PASSWORD,
                role_map=rig.roles,
                actor=SYSTEM,
                clock=rig.clock,
            )
            await upsert_kyc(
                db,
                KycInput(participant="bank-z", name="Zeta Clearing", addresses=(LISTED,)),
                actor=SYSTEM,
                clock=rig.clock,
            )
            data = (FIXTURES / "sdn_advanced_v1.xml").read_bytes()
            await import_list(
                db,
                list_name="ofac-sdn",
                fmt="ofac_sdn_xml",
                data=data,
                file_name="sdn.xml",
                actor=SYSTEM,
                clock=rig.clock,
            )
            await rescreen(db, index=await load_index(db), threshold=0.9, clock=rig.clock)
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


async def test_dispose_a_hit_and_read_a_list_diff(served: Served) -> None:
    page = await served.signed_in(OFFICER)
    await page.click("nav a[href='/compliance']")
    await expect(page).to_have_url(f"{served.base_url}/compliance")
    row = page.locator("#hits-list tr").filter(has_text=LISTED)
    await expect(row).to_have_attribute("data-state", "open")
    await page.screenshot(path=ARTIFACTS / "compliance-hits.png", full_page=True)
    await row.locator("input[name=reason]").fill("our own settlement test wallet")
    await row.locator("button[type=submit]").click()
    await expect(page).to_have_url(f"{served.base_url}/compliance")
    await expect(page.locator("#hits-empty")).to_be_visible()  # no open hit left
    await page.goto(f"{served.base_url}/compliance?state=false_positive")
    await expect(page.locator("#hits-list")).to_contain_text("our own settlement test wallet")
    await page.click("#lists-table a[href='/compliance/lists/ofac-sdn/1']")
    await expect(page.locator("#diff-added tr[data-key='41001']")).to_be_visible()
    await page.screenshot(path=ARTIFACTS / "compliance-diff.png", full_page=True)
