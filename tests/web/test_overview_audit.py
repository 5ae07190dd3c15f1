"""Overview, audit log, charts pages and the static files."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from api.rig import ApiRig
from web.conftest import AUDITOR, LEAD, LEGAL, client_for, csrf_of, sign_in

REPO = Path(__file__).resolve().parents[2]


async def test_overview_shows_areas_chain_and_firing_alerts(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    page = await lead.get("/")
    assert page.status_code == 200
    html = page.text
    assert re.findall(r'data-area="(\w+)"', html) == ["nodes", "transactions", "gas", "contracts", "oracles"]
    assert re.search(r'data-area="oracles" data-state="red"', html)  # three P1s on the oracle monitor
    assert re.search(r'data-area="gas" data-state="green"', html)
    assert '<dd id="head-block">120</dd>' in html
    assert "2 blocks" in html
    assert "No reorganisation seen." in html
    assert 'Firing alerts <span class="muted">3 total</span>' in html
    assert html.count('class="countdown"') == 3


async def test_overview_follows_the_platform_status(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    rig.status.update(head=150, last_block=140, lag=10)
    rig.status["endpoints"] = [{"name": "node0", "url": "http://x", "state": "down", "head": None}]
    fragment = await lead.get("/ui/overview", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text
    assert '<dd id="head-block">150</dd>' in fragment.text
    assert 'data-area="nodes" data-state="red"' in fragment.text  # no healthy endpoint
    assert 'data-area="transactions" data-state="amber"' in fragment.text  # follower lagging
    rig.status.clear()
    empty = await lead.get("/ui/overview")
    assert "The platform has not reported its status yet." in empty.text


async def test_overview_with_nothing_firing_says_so(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    token = csrf_of((await lead.get("/")).text)
    for alert_id in rig.alert_ids:
        await lead.post(f"/alerts/{alert_id}/action", data={"action": "resolve", "csrf_token": token})
    page = await lead.get("/")
    assert "Nothing is firing" in page.text
    assert 'data-area="oracles" data-state="green"' in page.text


async def test_audit_page_needs_audit_read(rig: ApiRig, viewer: httpx.AsyncClient) -> None:
    page = await viewer.get("/audit")
    assert page.status_code == 403
    assert "audit.read" in page.text
    assert 'href="/audit"' not in (await viewer.get("/")).text  # not offered in the navigation either


async def test_audit_page_lists_entries_with_filters(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    alert_id = rig.alert_ids[0]
    token = csrf_of((await lead.get("/")).text)
    await lead.post(f"/alerts/{alert_id}/action", data={"action": "acknowledge", "csrf_token": token})
    async with client_for(rig) as auditor:
        await sign_in(auditor, AUDITOR)
        page = await auditor.get("/audit")
        assert page.status_code == 200
        assert "alert.acknowledge" in page.text and LEAD in page.text
        assert f'href="/alerts/{alert_id}">alert:{alert_id}' in page.text
        assert f"acknowledged_by</span> None → <b>{LEAD}</b>" in page.text  # only what changed
        only = await auditor.get("/ui/audit?action=alert.*")
        assert "alert.acknowledge" in only.text and "user.create" not in only.text
        nobody = await auditor.get("/ui/audit?actor=nobody")
        assert "No audit entry matches these filters." in nobody.text


async def test_charts_page_loads_the_vendored_uplot(
    lead: httpx.AsyncClient, viewer: httpx.AsyncClient
) -> None:
    for client in (lead, viewer):  # metrics.read: every role may see charts
        page = await client.get("/charts")
        assert page.status_code == 200
        assert "/static/vendor/uPlot.iife.min.js" in page.text
        assert "/static/charts.js" in page.text


async def test_static_files_and_no_way_out_of_static(lead: httpx.AsyncClient) -> None:
    js = await lead.get("/static/vendor/htmx.min.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    css = await lead.get("/static/console.css")
    assert css.headers["content-type"].startswith("text/css")
    for path in ("/static/../views.py", "/static/%2e%2e/views.py", "/static/nope.js", "/static/"):
        assert (await lead.get(path)).status_code == 404, path


@pytest.mark.parametrize(
    ("package", "source", "vendored"),
    [
        ("htmx.org", "dist/htmx.min.js", "htmx.min.js"),
        ("uplot", "dist/uPlot.iife.min.js", "uPlot.iife.min.js"),
        ("uplot", "dist/uPlot.min.css", "uPlot.min.css"),
    ],
)
def test_vendored_assets_match_the_pinned_npm_packages(package: str, source: str, vendored: str) -> None:
    """scripts/vendor_assets.js copied them; a package.json bump without re-vendoring fails here."""
    installed = REPO / "node_modules" / package / source
    if not installed.exists():
        pytest.skip(f"{installed} is missing (npm ci not run)")
    target = REPO / "src" / "fictra" / "web" / "static" / "vendor" / vendored
    assert target.read_bytes() == installed.read_bytes(), f"run node scripts/vendor_assets.js ({vendored})"


async def test_audit_verification_status_intact_then_tampered(rig: ApiRig, lead: httpx.AsyncClient) -> None:
    token = csrf_of((await lead.get("/")).text)
    await lead.post(f"/alerts/{rig.alert_ids[0]}/action", data={"action": "acknowledge", "csrf_token": token})
    async with client_for(rig) as auditor:
        await sign_in(auditor, AUDITOR)
        assert 'id="audit-verify"' in (await auditor.get("/audit")).text
        intact = await auditor.get("/ui/audit/verify", headers={"HX-Request": "true"})
        assert 'id="verify-status">intact' in intact.text
        async with rig.sessions.begin() as db:  # someone edits an entry behind the audit service's back
            await db.execute(text("UPDATE audit_entries SET actor = 'mallory' WHERE idx = 1"))
        tampered = await auditor.get("/ui/audit/verify")
        assert 'id="verify-status">TAMPERED' in tampered.text
        assert "First bad entry: #1." in tampered.text


async def test_audit_verification_needs_audit_verify(rig: ApiRig, viewer: httpx.AsyncClient) -> None:
    assert (await viewer.get("/ui/audit/verify")).status_code == 403  # no audit.read at all
    async with client_for(rig) as legal:  # audit.read without audit.verify: the log, but no verdict
        await sign_in(legal, LEGAL)
        assert (await legal.get("/audit")).status_code == 200
        fragment = await legal.get("/ui/audit/verify")
        assert "not checked" in fragment.text and "audit.verify" in fragment.text


async def test_overview_shares_one_read_until_the_alert_store_changes(
    rig: ApiRig, lead: httpx.AsyncClient
) -> None:
    """Issue 13: operators polling at once share one read of the firing alerts; a change shows at once."""
    from api.rig import finding
    from fictra.alerting.findings import Severity
    from fictra.alerting.service import apply_findings
    from fictra.web import overview

    first = await lead.get("/ui/overview")
    assert 'Firing alerts <span class="muted">3 total</span>' in first.text
    cached = overview._cache
    assert cached is not None
    assert (await lead.get("/ui/overview")).status_code == 200
    assert overview._cache is cached, "nothing changed: the same read served the second request"
    async with rig.sessions.begin() as db:
        await apply_findings(db, [finding(7, Severity.P0)], head=200, clock=rig.clock)
    after = await lead.get("/ui/overview")
    assert 'Firing alerts <span class="muted">4 total</span>' in after.text and overview._cache is not cached
