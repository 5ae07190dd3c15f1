"""The proposals console in a real browser (Chromium through Playwright) against the devnet: a sovereign's
fee proposal, followed by the real follower, is opened from the list, simulated on a fork from its page
(the before/after table shows feeBps 10 -> 60), approved with a note, and a link to a change request that
does not exist is refused on the page; no page breaks the Content-Security-Policy. Screenshot in
test-artifacts/browser/proposal-*.png."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.async_api import expect

from api.rig import PASSWORD, api_rig
from browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _free_port, _require_chromium
from fictra.api.app import serve
from fictra.auth.actor import SYSTEM
from fictra.auth.service import create_user
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import SystemClock
from fictra.db.engine import migrate
from fictra.devnet.chainutil import DevChain
from fictra.platform.proposals import proposals_context

from .test_flow import Rig, _propose

pytestmark = [pytest.mark.e2e]
LEAD = "u-lead"


async def test_simulate_and_approve_from_the_console(
    gov_url: str, gov_manifest: Manifest, tmp_path: Path
) -> None:
    _require_chromium()
    from playwright.async_api import async_playwright

    db = f"sqlite:///{tmp_path / 'console.db'}"
    migrate(db)
    pool = RpcPool(network="devnet", urls=[gov_url], clock=SystemClock(), chain_id=gov_manifest.chain_id)
    await pool.start()
    port = _free_port()
    stop = asyncio.Event()
    try:
        async with api_rig(db, roles=[], alerts=0) as api:
            api.context.platform = SimpleNamespace(  # type: ignore[assignment]
                proposals=proposals_context(
                    manifest=gov_manifest, clock=api.clock, pool=pool, fork_url=gov_url
                )
            )
            async with api.sessions.begin() as session:
                await create_user(session, username=LEAD, roles=["technical_lead"], password=PASSWORD,
                                  role_map=api.roles, actor=SYSTEM, clock=api.clock)  # fmt: skip
            rig = Rig(gov_url, gov_manifest, api.sessions, pool)
            async with DevChain(gov_url, gov_manifest) as chain:
                rig.start = await chain.head() + 1
                await _propose(
                    chain, chain.role("sovereigns")[0], [("PaymentToken", "setFee", [60])], "PT fee 0.6%"
                )
            await rig.follow()
            server = asyncio.create_task(serve(api.app, host="127.0.0.1", port=port, stop=stop))
            try:
                async with async_playwright() as pw:
                    browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                    try:
                        await _walk(browser, f"http://127.0.0.1:{port}")
                    finally:
                        await browser.close()
            finally:
                stop.set()
                await server
    finally:
        await pool.aclose()


async def _walk(browser: object, base: str) -> None:
    context = await browser.new_context(viewport={"width": 1366, "height": 900})  # type: ignore[attr-defined]
    context.set_default_timeout(20_000)
    page = await context.new_page()
    blocked: list[str] = []
    page.on(
        "console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    await page.goto(f"{base}/login")
    await page.fill("input[name=username]", LEAD)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base}/")
    await page.click("nav a[href='/proposals']")
    row = page.locator("#proposals-list tr[data-proposal='1']")
    await expect(row).to_contain_text("setFee(uint16)")
    await expect(row).to_contain_text("none")  # no change request yet: the P1 marker
    await row.locator("a").first.click()
    await expect(page.locator("#proposal-review")).to_have_text("awaiting simulation")
    await expect(page.locator("#decoded-calls")).to_contain_text("newFeeBps = 60")
    await page.click("#btn-simulate")
    changed = page.locator("#simulation-state tr[data-probe='PaymentToken.feeBps()']")
    await expect(changed).to_contain_text("10")
    await expect(changed.locator("strong")).to_have_text("60")
    await expect(page.locator("#simulation-events")).to_contain_text("PaymentToken.FeeChanged")
    await page.fill("#review-form input[name=note]", "fee only; FeeChanged as expected")
    await page.click("#btn-approve")
    await expect(page.locator("#proposal-review")).to_have_text("signed off")
    await expect(page.locator("#signoffs")).to_contain_text(f"approve by {LEAD}")
    await page.fill("#link-form input[name=change_id]", "999")
    await page.click("#btn-link")
    await expect(page.locator("#proposal-error")).to_contain_text("No change request #999")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "proposal-detail.png", full_page=True)
    assert not blocked, blocked
    await context.close()
