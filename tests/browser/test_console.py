"""The operations console in a real browser against a live devnet: log in, live overview, a scenario's
alert appearing without a reload, acknowledgement by the technical lead, the audit log, and a viewer who
can look but not act (no button, and the API answers 403). Alert response runs too (issue 5): the P0's SLA
countdown stops on acknowledgement and the escalation timeline shows who was notified when; a dead letter
is retried from the console; who is on call now and next.

The tests run in order on one platform (module fixture): each builds on the state the previous left.
"""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from browser.conftest import ARTIFACTS, PASSWORD, Console

pytestmark = [pytest.mark.e2e]
state: dict[str, int] = {}


async def test_login_rejects_a_wrong_password_then_signs_in(console: Console) -> None:
    page = await console.page()
    await page.goto(f"{console.base_url}/alerts")
    await expect(page).to_have_url(re.compile(r"/login\?next=/alerts"))  # signed out: sent to log in
    await page.fill("input[name=username]", "lead")
    await page.fill("input[name=password]", "not-the-password")
    await page.click("button[type=submit]")
    await expect(page.locator("#login-error")).to_contain_text("Wrong user name or password")
    await expect(page.locator("#login-error")).to_contain_text("lock")
    await page.screenshot(path=ARTIFACTS / "login-error.png")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await expect(page).to_have_url(f"{console.base_url}/alerts")  # back where they were going
    await expect(page.locator(".topbar .user")).to_have_text("lead")
    await page.context.close()


async def test_overview_shows_the_live_chain(console: Console) -> None:
    running = console.running
    page = await console.signed_in("lead")
    await running.settle()
    head = await running.head()
    await expect(page.locator("#head-block")).to_have_text(str(head))
    await expect(page.locator(".area")).to_have_count(5)
    # the chain moves on: the page follows without a reload
    await running.mine(3)
    await running.settle()
    await expect(page.locator("#head-block")).to_have_text(str(head + 3), timeout=10_000)
    await expect(page.locator("#processed-block")).to_have_text(str(head + 3))
    await page.screenshot(path=ARTIFACTS / "overview.png", full_page=True)
    await page.context.close()


async def test_scenario_alert_appears_without_reload_and_lead_acknowledges(console: Console) -> None:
    running = console.running
    page = await console.signed_in("lead")
    await page.goto(f"{console.base_url}/alerts?status=firing")
    await expect(page.locator("#alerts-table")).not_to_contain_text("paused")
    marker = await page.evaluate("() => (window.__marker = Math.random())")

    await running.scenario("pause")
    alert = await running.wait_for_alert(
        lambda a: a.monitor == "contract-status" and a.labels.get("condition") == "paused", within_blocks=2
    )
    state["alert_id"] = alert.id
    row = page.locator(f"#alerts-table tr[data-alert-id='{alert.id}']")
    await expect(row).to_be_visible(timeout=10_000)  # polled in, no reload:
    assert await page.evaluate("() => window.__marker") == marker
    await expect(row.locator(".sev")).to_have_text("P0")
    await page.screenshot(path=ARTIFACTS / "alerts-live.png", full_page=True)

    await expect(row.locator("[data-col='count']")).to_have_text("1")
    await row.locator(f"a[href='/alerts/{alert.id}']").first.click()
    await expect(page).to_have_url(f"{console.base_url}/alerts/{alert.id}")
    await expect(page.locator("#alert-status")).to_have_text("firing")
    await expect(page.locator("#alert-ack .countdown")).to_contain_text(re.compile(r"\d+m \d\ds"))
    # issue 5: the P0's SLA clock runs and the first level of the runbook's path was notified, with when
    ack_clock = page.locator("#sla-acknowledge")
    await expect(ack_clock).to_have_attribute("data-state", "running")
    countdown = ack_clock.locator(".countdown")
    await expect(countdown).to_have_text(re.compile(r"^1[45]m \d\ds$"))  # P0: 15 minutes to acknowledge
    shown = await countdown.text_content()
    await expect(countdown).not_to_have_text(shown or "", timeout=5_000)  # it counts down live
    steps = page.locator("#escalation-steps tbody tr")
    await expect(steps).to_have_count(1)
    await expect(steps.first).to_have_attribute("data-level", "0")
    await expect(steps.first).to_contain_text("first_level_support")
    await expect(steps.first).to_contain_text(re.compile(r"support-[12]"))
    await expect(steps.first.locator("time")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$"))
    await expect(page.locator("#next-escalation .countdown")).to_have_count(1)  # level 2 is scheduled
    await page.screenshot(path=ARTIFACTS / "alert-detail.png", full_page=True)

    await page.click("#block-link")  # the block as the chain has it, with this alert anchored on it
    await expect(page.locator("#block-hash")).to_have_text(alert.block_hash or "")
    await expect(page.locator("#reorged")).to_have_count(0)
    await expect(page.locator(f"a[href='/alerts/{alert.id}']")).to_be_visible()
    await page.screenshot(path=ARTIFACTS / "block.png", full_page=True)
    await page.go_back()

    await page.fill("textarea[name=note]", "Pause confirmed with the issuer; investigating.")
    await page.click("#btn-acknowledge")
    await expect(page.locator("#alert-ack")).to_contain_text("by lead")
    await expect(page.locator("#btn-acknowledge")).to_have_count(0)
    await expect(page.locator(".timeline")).to_contain_text("Pause confirmed with the issuer")
    # the acknowledgement clock stopped (met, no countdown), no further level is scheduled, and the
    # escalation timeline still shows who was notified when
    await expect(ack_clock).to_have_attribute("data-state", "met")
    await expect(ack_clock.locator(".countdown")).to_have_count(0)
    await expect(page.locator("#next-escalation .countdown")).to_have_count(0)
    await expect(page.locator("#sla-resolve")).to_have_attribute("data-state", "running")
    await expect(steps).to_have_count(1)
    await expect(steps.first).to_contain_text(re.compile(r"support-[12]"))
    await page.screenshot(path=ARTIFACTS / "alert-acknowledged.png", full_page=True)

    # the overview shows it acknowledged instead of counting down
    await page.goto(f"{console.base_url}/")
    await expect(page.locator(f"tr[data-alert-id='{alert.id}']")).to_contain_text("acknowledged by lead")
    await expect(page.locator(".area[data-area='contracts']")).to_have_attribute("data-state", "red")
    await page.context.close()


async def test_acknowledgement_is_in_the_audit_log(console: Console) -> None:
    """The technical lead who acknowledged sees it on the record (the issue's acceptance flow)."""
    alert_id = state["alert_id"]
    page = await console.signed_in("lead")
    await page.goto(f"{console.base_url}/audit")
    row = page.locator("#audit-table tr", has_text="alert.acknowledge")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("lead")
    await expect(row).to_contain_text(f"alert:{alert_id}")
    await page.context.close()
    # verifying the chain is the auditors' permission (audit.verify): the security officer sees it intact
    page = await console.signed_in("auditor")
    await page.goto(f"{console.base_url}/audit")
    await expect(page.locator("#audit-table tr", has_text="alert.acknowledge")).to_have_count(1)
    await expect(page.locator("#verify-status")).to_have_text("intact")
    await page.screenshot(path=ARTIFACTS / "audit.png", full_page=True)
    await page.context.close()


async def test_viewer_sees_no_acknowledge_button_and_the_api_refuses(console: Console) -> None:
    running = console.running
    await running.scenario("trading-halt")
    alert = await running.wait_for_alert(
        lambda a: a.labels.get("condition") == "trading_halted", within_blocks=2
    )
    page = await console.signed_in("viewer", width=1024, height=768)
    await page.goto(f"{console.base_url}/alerts/{alert.id}")
    await expect(page.locator("#alert-status")).to_have_text("firing")
    await expect(page.locator("#no-actions")).to_be_visible()
    await expect(page.locator("#btn-acknowledge")).to_have_count(0)
    await expect(page.locator("#btn-resolve")).to_have_count(0)
    await expect(page.locator(".topbar nav")).not_to_contain_text("Audit log")
    await page.screenshot(path=ARTIFACTS / "viewer-alert-1024.png", full_page=True)

    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    response = await page.request.post(
        f"{console.base_url}/api/v1/alerts/{alert.id}/acknowledge",
        headers={"X-CSRF-Token": cookies["fictra_csrf"]},
        data={},
    )
    assert response.status == 403, await response.text()
    assert (await response.json())["error"]["code"] == "forbidden"
    # and the HTML form refuses too, even when posted by hand
    form = await page.request.post(
        f"{console.base_url}/alerts/{alert.id}/action",
        form={"action": "acknowledge", "csrf_token": cookies["fictra_csrf"]},
    )
    assert form.status == 403
    await page.goto(f"{console.base_url}/audit")
    await expect(page.locator("h1")).to_have_text("Not allowed")
    await page.context.close()
    await running.scenario("trading-halt", undo=True)


async def test_charts_draw_the_recorded_series(console: Console) -> None:
    await console.running.mine(3)  # consecutive blocks: block intervals too
    await console.running.settle()
    page = await console.signed_in("lead")
    await page.goto(f"{console.base_url}/charts")
    for chart in ("throughput", "confirmation", "errors", "gas"):
        card = page.locator(f"#chart-{chart}")
        await expect(card.locator("canvas")).to_have_count(1)  # uPlot drew it
        await expect(card.locator(".legend-note")).not_to_contain_text("No samples")
    await expect(page.locator("#chart-error")).to_be_hidden()
    # the pause's P0 is marked on the charts' time axis and listed under them, with a link
    marker = page.locator("#chart-markers li[data-kind='alert']", has_text=f"alert #{state['alert_id']}")
    await expect(marker).to_have_count(1)
    await expect(marker).to_contain_text("P0")
    # a custom time range that ends before anything happened: no markers
    await page.fill("#chart-from", "2020-01-01T00:00")
    await page.fill("#chart-to", "2020-01-02T00:00")
    await page.dispatch_event("#chart-to", "change")
    await expect(page.locator("#chart-markers li")).to_have_count(0)
    await expect(page.locator("#chart-markers-empty")).to_be_visible()
    await page.fill("#chart-from", "")
    await page.dispatch_event("#chart-from", "change")
    await expect(marker).to_have_count(1)
    await page.context.close()


async def test_dead_letter_retried_from_the_console_and_who_is_on_call(console: Console) -> None:
    from fictra.notify import service
    from fictra.notify.message import Message
    from fictra.notify.models import Notification

    platform = console.running.platform
    async with platform.sessions.begin() as session:
        found = await service.enqueue(
            session,
            receiver="ops-webhook",
            channel="webhook",
            message=Message(subject="Reserve paused (browser dead letter)", severity="P0"),
            idempotency_key="browser-dead-letter",
            clock=platform.clock,
        )
        assert found is not None
        row = await session.get(Notification, found)
        assert row is not None
        row.status, row.attempts, row.last_error = "dead", 8, "HTTP 500 from receiver"
    page = await console.signed_in("lead")
    await page.click(".topbar nav >> text=Notifications")
    row_el = page.locator(f"#notifications-table tr[data-notification-id='{found}']")
    await expect(row_el).to_contain_text("HTTP 500 from receiver")
    # who the row was for: a receiver no longer in receivers.yaml says so (shipped: ops-log only)
    await expect(row_el.locator("[data-col='recipients']")).to_have_text("(no longer configured)")
    await page.screenshot(path=ARTIFACTS / "dead-letters.png", full_page=True)
    await page.click(f"#btn-retry-{found}")
    await expect(page.locator(".flash")).to_contain_text(f"Notification {found} is queued again")
    await expect(row_el).to_have_count(0)
    await page.click(".topbar nav >> text=On call")
    schedule = page.locator("[data-schedule='first-line']")
    await expect(schedule.locator(".oncall-now")).to_contain_text(re.compile(r"support-[12] until"))
    await expect(schedule.locator(".oncall-next")).to_contain_text(re.compile(r"support-[12] from"))
    await page.screenshot(path=ARTIFACTS / "oncall.png", full_page=True)
    await page.context.close()
    page = await console.signed_in("viewer")  # no notifications.read: not in the menu, and refused
    await expect(page.locator(".topbar nav")).not_to_contain_text("Notifications")
    await page.goto(f"{console.base_url}/notifications")
    await expect(page.locator("h1")).to_have_text("Not allowed")
    await page.context.close()


async def test_alert_list_columns_severity_order_and_incident_links_both_ways(console: Console) -> None:
    """Issue 12: id, count, incident and age columns; P0 above lower severities whatever their age; an alert
    links its incident and the incident its alerts."""
    from fictra.auth.actor import SYSTEM
    from fictra.incidents import service as incidents

    running = console.running
    alert_id = state["alert_id"]  # the pause's P0 (acknowledged, still firing)
    await running.scenario("gas-spike")  # a newer, lower-severity alert
    newer = await running.wait_for_alert(lambda a: a.monitor == "gas-market", within_blocks=3)
    async with running.platform.sessions.begin() as session:
        view = await incidents.declare(
            session,
            title="Contracts paused",
            severity="P0",
            category="smart_contract",
            actor=SYSTEM,
            clock=running.platform.clock,
            alert_ids=[alert_id],
        )
    page = await console.signed_in("lead", width=1024, height=768)
    await page.goto(f"{console.base_url}/alerts?status=firing")
    table = page.locator("#alerts-table")
    for header in ("#", "Count", "Incident", "Age"):
        await expect(table.locator("thead th", has_text=re.compile(f"^{re.escape(header)}$"))).to_have_count(
            1
        )
    ids = [
        int(i) for i in await table.locator("tbody tr").evaluate_all("rs => rs.map(r => r.dataset.alertId)")
    ]
    assert ids.index(alert_id) < ids.index(newer.id), ids  # P0 first, though the P2 is newer
    row = table.locator(f"tr[data-alert-id='{alert_id}']")
    await expect(row.locator("td").first).to_have_text(str(alert_id))
    await expect(row.locator("[data-col='age']")).to_have_text(re.compile(r"^\d+[smhd]"))
    await row.locator("[data-col='incident'] a").click()
    await expect(page).to_have_url(f"{console.base_url}/incidents/{view.id}")
    await page.locator(f"#incident-alerts a[href='/alerts/{alert_id}']").click()
    await expect(page.locator("#alert-incidents")).to_contain_text(f"Incident #{view.id}")
    await expect(page.locator("#declare-incident")).to_have_count(0)
    await page.screenshot(path=ARTIFACTS / "alert-with-incident.png", full_page=True)
    await page.context.close()
    await running.scenario("gas-spike", undo=True)


async def test_overview_at_1024_and_logout(console: Console) -> None:
    page = await console.signed_in("lead", width=1024, height=768)
    await expect(page.locator("#head-block")).not_to_be_empty()
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1024, f"the overview scrolls sideways at 1024 px ({width} px wide)"
    await page.screenshot(path=ARTIFACTS / "overview-1024.png", full_page=True)
    other = await page.context.new_page()  # a second tab of the same browser
    await other.goto(f"{console.base_url}/alerts")
    await other.click("text=Log out")
    await expect(other).to_have_url(f"{console.base_url}/login")
    # the first tab's next refresh finds the session gone and goes to the login form by itself
    await expect(page).to_have_url(re.compile(r"/login"), timeout=10_000)
    await page.goto(f"{console.base_url}/")
    await expect(page).to_have_url(re.compile(r"/login"))
    await page.context.close()


async def test_a_one_time_password_is_changed_first_and_no_page_breaks_the_csp(console: Console) -> None:
    """A new user signed in with a one-time password lands on the password page, cannot leave it, chooses
    their own and goes on; no page of the walk violates the Content-Security-Policy (no inline script)."""
    from fictra.auth.actor import SYSTEM
    from fictra.auth.service import create_user

    platform = console.running.platform
    async with platform.sessions.begin() as db:
        await create_user(
            db,
            username="newcomer",
            roles=["technical_lead"],
            password="One-Time-Browser-9q7w",
            role_map=platform.config.roles,
            actor=SYSTEM,
            clock=platform.clock,
            must_change_password=True,
        )
    page = await console.page()
    blocked: list[str] = []
    page.on(
        "console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None
    )
    await page.goto(f"{console.base_url}/incidents")
    await page.fill("input[name=username]", "newcomer")
    await page.fill("input[name=password]", "One-Time-Browser-9q7w")
    await page.click("button[type=submit]")
    await expect(page).to_have_url(re.compile(r"/account/password\?next=/incidents"))
    await expect(page.locator("#must-change")).to_be_visible()
    await expect(page.locator(".topbar nav a")).to_have_count(0)
    await page.goto(f"{console.base_url}/alerts")  # held on the password page
    await expect(page).to_have_url(re.compile(r"/account/password\?next=/alerts"))
    await page.fill("input[name=current_password]", "One-Time-Browser-9q7w")
    await page.fill("input[name=new_password]", "Newcomer-Own-Passphrase-31")
    await page.fill("input[name=confirm_password]", "Newcomer-Own-Passphrase-31")
    await page.screenshot(path=ARTIFACTS / "password-change.png")
    await page.click("#password button[type=submit]")
    await expect(page).to_have_url(f"{console.base_url}/alerts")
    await expect(page.locator(".topbar nav")).to_contain_text("Incidents")
    for path in ("/", "/incidents", "/actions", "/charts", "/account/password"):
        await page.goto(f"{console.base_url}{path}")
        await page.wait_for_load_state("networkidle")
    assert not blocked, blocked
    await page.context.close()
