"""The reserve page in Chromium: the proof of reserve (assets with price age), the allocation against the
shipped policy and the collateral-ratio chart; the tokens page (the registry reconciled with the chain) and
the economics page (the PT market), as a viewer sees them."""

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


async def test_tokens_page_shows_the_registry_reconciled_with_the_chain(console: Console) -> None:
    page = await console.signed_in("viewer")
    await page.goto(f"{console.base_url}/tokens")
    rows = page.locator("#sovereigns tbody tr")
    await expect(rows).to_have_count(5)
    await expect(page.locator('#sovereigns tr[data-ok="true"]')).to_have_count(5)
    await expect(page.locator('#sovereigns tr[data-sovereign="SOVEREIGN-5"]')).to_contain_text("pending")
    await page.goto(f"{console.base_url}/economics")
    await expect(page.locator('#market tr[data-measure="price"]')).to_contain_text("off the peg")
