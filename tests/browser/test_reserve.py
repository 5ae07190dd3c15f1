"""The reserve page in Chromium: the proof of reserve (assets with price age), the allocation against the
shipped policy and the collateral-ratio chart, as a viewer sees them."""

from __future__ import annotations

from playwright.async_api import expect

from browser.conftest import ARTIFACTS, Console


async def test_reserve_page_shows_allocation_against_policy_and_the_ratio_chart(console: Console) -> None:
    for _ in range(2):  # at least two proofs for the chart
        await console.running.mine()
        await console.running.settle()
    page = await console.signed_in("viewer")
    await page.goto(f"{console.base_url}/reserve")
    await expect(page.locator("h1")).to_have_text("Reserve")
    await expect(page.locator("#assets tbody tr")).to_have_count(3)
    await expect(page.locator("#ratio strong")).to_have_text("150.00%")
    rows = page.locator("#allocation tbody tr")
    await expect(rows).to_have_count(3)
    await expect(page.locator('#allocation tr[data-asset="GOLD"] td').nth(1)).to_have_text("36.4%")
    await expect(page.locator('#allocation tr[data-breach="true"]')).to_have_count(0)
    await expect(page.locator("#ratio-chart svg polyline")).to_have_count(1)
    await page.screenshot(path=str(ARTIFACTS / "reserve.png"), full_page=True)
