"""The incident page in a real browser against a live devnet (issue 6): the reserve-drain scenario's P0 alert,
"Declare incident" from the alert, the advance refused while outputs are missing and allowed once they are
recorded, the circuit breaker proposed from the incident page with its dry run shown before Execute is
enabled, approved by the technical lead and executed with the guardian's keystore, tracked to verified on
chain, and the incident timeline with the phase change and the on-chain transaction. Screenshots in
test-artifacts/browser/incident-*.png.

The platform runs like ``fictra up`` with the action runner (tests/e2e/harness.py ``start(emergency=True)``
assembles it) and the devnet keystores written where config/emergency.yaml points (``${devnet_dir}/keys``).
The tests run in order on one platform and build on each other.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import expect

from browser.conftest import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    Console,
    _free_port,
    _require_chromium,
    _status,
)
from e2e.harness import Running, start
from fictra.api.app import create_app, serve
from fictra.api.context import AppContext
from fictra.auth.actor import SYSTEM
from fictra.auth.permissions import load_roles
from fictra.auth.service import create_user
from fictra.devnet.accounts import one
from fictra.emergency import service as actions_service
from fictra.emergency.keystore import write_devnet_keystores
from fictra.emergency.runner import ActionRunner
from fictra.incidents import service as incidents_service

pytestmark = [pytest.mark.e2e]
USERS = {"lead": "technical_lead", "ops": "operations_manager", "viewer": "viewer"}
state: dict[str, int] = {}
hashes: dict[str, str] = {}


@dataclass
class Rig:
    console: Console
    runner: ActionRunner

    @property
    def running(self) -> Running:
        return self.console.running

    @property
    def base_url(self) -> str:
        return self.console.base_url


@pytest.fixture(scope="module")
async def rig(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    _require_chromium()
    from playwright.async_api import async_playwright

    port = _free_port()
    tmp = tmp_path_factory.mktemp("browser-incidents")
    keys = tmp / "data" / "devnet" / "keys"  # ${devnet_dir}/keys of the shipped emergency.yaml
    keys.mkdir(parents=True)
    write_devnet_keystores(
        keys, {"guardian": one("guardian").private_key, "proposer": one("proposer").private_key}
    )
    running = await start(tmp, response=True, emergency=True, link_base=f"http://127.0.0.1:{port}")
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    try:
        platform = running.platform
        runner = platform.emergency
        if runner is None:
            raise RuntimeError("the harness did not assemble the emergency runner")
        roles = load_roles(platform.settings.config_dir / "roles.yaml")
        async with platform.sessions.begin() as db:
            for username, role in USERS.items():
                await create_user(
                    db,
                    username=username,
                    roles=[role],
                    password=PASSWORD,
                    role_map=roles,
                    actor=SYSTEM,
                    clock=platform.clock,
                )
        context = AppContext(
            settings=platform.settings,
            sessions=platform.sessions,
            metrics=platform.metrics,
            clock=platform.clock,
            status=lambda: _status(running),
            platform=platform,
            roles=roles,
        )
        tasks.append(
            asyncio.create_task(serve(create_app(context=context), host="127.0.0.1", port=port, stop=stop))
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)  # (never wiped here: test_console's shots stay)
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield Rig(Console(running, f"http://127.0.0.1:{port}", browser), runner)
            finally:
                await browser.close()
    finally:
        stop.set()
        for task in tasks:
            await task
        await running.close()


async def test_declare_an_incident_from_the_reserve_drain_alert(rig: Rig) -> None:
    running = rig.running
    await running.scenario("reserve-drain")
    alert = await running.wait_for_alert(
        lambda a: a.labels.get("condition") == "reserve_breach", within_blocks=3
    )
    assert alert.severity == "P0"
    state["alert_id"] = alert.id
    page = await rig.console.signed_in("lead")
    await page.goto(f"{rig.base_url}/alerts/{alert.id}")
    await page.click("#declare-incident")
    await expect(page).to_have_url(f"{rig.base_url}/incidents/new?alert={alert.id}")
    # the form comes preselected from the alert: ticked, its summary as the title, P0, smart contract
    await expect(page.locator(f"#declare-alerts input[value='{alert.id}']")).to_be_checked()
    await expect(page.locator("select[name=severity]")).to_have_value("P0")
    await expect(page.locator("select[name=category]")).to_have_value("smart_contract")
    await page.fill("input[name=title]", "Reserve drained below full collateral")
    await page.fill("textarea[name=summary]", "The reserve manager withdrew the reserve assets.")
    await page.screenshot(path=ARTIFACTS / "incident-declare.png", full_page=True)
    await page.click("#btn-declare")
    await expect(page).to_have_url(re.compile(r"/incidents/\d+$"))
    incident_id = int(page.url.rsplit("/", 1)[1])
    state["incident_id"] = incident_id
    await expect(page.locator("h1")).to_contain_text("Reserve drained below full collateral")
    await expect(page.locator("#incident-phase")).to_have_attribute("data-phase", "detection")
    await expect(page.locator("#phase-steps li.current")).to_have_text("Detection")
    await expect(page.locator(f"#incident-alerts a[href='/alerts/{alert.id}']")).to_be_visible()
    await expect(page.locator("[data-output='triage']")).to_have_attribute("data-status", "missing")
    await expect(page.locator("#timeline-items")).to_contain_text("incident.declared")
    await page.context.close()


async def test_phase_changes_once_the_required_outputs_are_recorded(rig: Rig) -> None:
    incident_id = state["incident_id"]
    page = await rig.console.signed_in("lead")
    await page.goto(f"{rig.base_url}/incidents/{incident_id}")
    # too early: refused, with the service's message naming what is missing
    await page.click("#btn-advance")
    error = page.locator("#incident-error")
    await expect(error).to_contain_text(f"Incident {incident_id} cannot leave phase detection")
    for key in ("triage", "impact_assessment", "team_activation", "initial_notification"):
        await expect(error).to_contain_text(key)
    await expect(page.locator("#incident-phase")).to_have_attribute("data-phase", "detection")
    await page.screenshot(path=ARTIFACTS / "incident-advance-refused.png", full_page=True)

    for key, text in [
        ("triage", "Confirmed on the Reserve contract: collateral ratio under 100%."),
        ("impact_assessment", "PT is under-collateralized; redemptions at risk."),
    ]:
        await page.fill(f"#output-form-{key} textarea[name=text]", text)
        await page.click(f"#btn-output-{key}")
        await expect(page.locator(f"[data-output='{key}']")).to_have_attribute("data-status", "done")
    for role, user in [("commander", "lead"), ("responder", "ops")]:
        await page.select_option("#role-form select[name=role]", role)
        await page.fill("#role-form input[name=username]", user)
        await page.click("#btn-role")
        await expect(page.locator(f"#role-{'responders' if role == 'responder' else role}")).to_have_text(
            user
        )
    await page.select_option("#update-form select[name=template]", "initial")
    await page.fill("#update-form input[name=message]", "We are containing a reserve drain.")
    await page.click("#btn-update")
    await expect(page.locator(".flash")).to_contain_text("Status update queued")
    for key in ("team_activation", "initial_notification"):
        await expect(page.locator(f"[data-output='{key}']")).to_have_attribute("data-status", "done")
    await expect(page.locator("#missing-detection")).to_have_text("0 missing")

    await page.fill("#advance-form input[name=note]", "Detection outputs complete.")
    await page.click("#btn-advance")
    await expect(page.locator("#incident-phase")).to_have_attribute("data-phase", "response")
    await expect(page.locator("#phase-steps li.current")).to_have_text("Response")
    await expect(page.locator("#phase-steps li[data-phase='detection']")).to_have_class("done")
    await expect(page.locator("#btn-advance")).to_have_text("Advance to Recovery")
    await expect(page.locator("#timeline-items")).to_contain_text("detection -> response")
    await page.screenshot(path=ARTIFACTS / "incident-response-phase.png", full_page=True)
    await page.context.close()


async def test_pause_proposed_from_the_incident_dry_run_then_approved_and_executed(rig: Rig) -> None:
    incident_id = state["incident_id"]
    running = rig.running
    # the operations manager proposes: for pause_all their approval does not count (the rule wants a
    # security officer or technical lead), so the action waits for the lead's approval
    page = await rig.console.signed_in("ops")
    await page.goto(f"{rig.base_url}/incidents/{incident_id}")
    await page.select_option("#propose-kind", "pause_all")
    await page.fill("#propose-form input[name=reason]", "Stop further withdrawals while we investigate.")
    await page.click("#btn-propose")
    await expect(page).to_have_url(re.compile(r"/actions/\d+\?done=proposed$"))
    action_id = int(re.findall(r"/actions/(\d+)", page.url)[0])
    state["action_id"] = action_id
    await expect(page.locator("#action-incident")).to_have_text(f"#{incident_id}")
    # the dry run ran at once: it would succeed, with the events it would emit and the state now
    await expect(page.locator("#dry-run-state")).to_have_text("would succeed")
    await expect(page.locator("#dry-run-steps")).to_contain_text("AllPaused")
    await expect(page.locator("#dry-run-now")).to_be_visible()
    await expect(page.locator("#rule-state")).to_have_text("not yet satisfied")
    await expect(page.locator("#btn-execute")).to_be_disabled()
    await expect(page.locator("#execute-blockers")).to_contain_text("approval rule is not satisfied")
    await page.screenshot(path=ARTIFACTS / "incident-action-dry-run.png", full_page=True)
    await page.context.close()

    page = await rig.console.signed_in("lead")
    await page.goto(f"{rig.base_url}/actions/{action_id}")
    await expect(page.locator("#dry-run-state")).to_have_text("would succeed")
    await page.click("#btn-approve")
    await expect(page.locator("#rule-state")).to_have_text("rule satisfied")
    await expect(page.locator("[data-approver='lead']")).to_have_attribute("data-valid", "yes")
    await expect(page.locator("#btn-execute")).to_be_enabled()
    await page.click("#btn-execute")
    await expect(page.locator(".flash")).to_contain_text("Execution started")
    # the runner sends, then waits for confirmations: the chain moves on, the page follows live
    status = page.locator("#action-status")
    for _ in range(40):
        if await status.get_attribute("data-status") in ("verified", "failed"):
            break
        await running.mine()
        await asyncio.sleep(0.5)
    await expect(status).to_have_attribute("data-status", "verified", timeout=10_000)
    for step in ("submitted", "included", "confirmed", "verified"):
        await expect(page.locator(f"#action-track li[data-step='{step}']")).to_have_class("reached")
    tx_row = page.locator("#action-txs tbody tr").first
    await expect(tx_row).to_have_attribute("data-tx-status", "confirmed")
    await expect(tx_row.locator(".receipt")).to_have_text("success")
    await expect(tx_row.locator(".tx-hash")).to_have_text(re.compile(r"^0x[0-9a-f]{64}$"))
    await expect(page.locator("#verification-state")).to_have_text("verified")
    # proposed against the incident's alert: the time from that alert firing to the confirmed pause
    await expect(page.locator("#alert-to-confirmed")).to_contain_text(
        re.compile(rf"^[\d.]+ s from alert #{state['alert_id']} firing to the confirmed transaction")
    )
    await page.screenshot(path=ARTIFACTS / "incident-action-verified.png", full_page=True)
    await page.context.close()

    async with running.platform.sessions() as session:
        view = await actions_service.get_action(session, action_id)
    assert view.status == "verified" and view.txs and view.txs[0].tx_hash
    assert view.trigger_alert_id == state["alert_id"] and view.alert_to_confirmed_seconds is not None
    assert 0 < view.alert_to_confirmed_seconds < 120
    assert await running.chain.call("Reserve", "paused")  # the chain itself says so
    hashes["tx"] = view.txs[0].tx_hash


async def test_timeline_shows_the_phase_change_and_the_onchain_transaction(rig: Rig) -> None:
    incident_id, action_id = state["incident_id"], state["action_id"]
    page = await rig.console.signed_in("lead")
    await page.goto(f"{rig.base_url}/incidents/{incident_id}")
    items = page.locator("#timeline-items")
    await expect(items.locator("li[data-kind='incident.phase']")).to_contain_text("detection -> response")
    await expect(items.locator("li[data-kind='action.verified']")).to_have_count(1)
    tx = items.locator(".tx-hash").first
    await expect(tx).to_have_attribute("data-copy", hashes["tx"])
    await expect(items.locator(f"a[href='/actions/{action_id}']").first).to_be_visible()
    row = page.locator(f"#incident-actions tr[data-action-id='{action_id}']")
    await expect(row).to_have_attribute("data-status", "verified")
    # the timeline is in time order: declared, ..., the phase change, ..., the verified pause
    kinds = await items.locator("li").evaluate_all("els => els.map(e => e.dataset.kind)")
    assert kinds.index("incident.declared") < kinds.index("incident.phase") < kinds.index("action.verified")
    await page.screenshot(path=ARTIFACTS / "incident-timeline.png", full_page=True)
    await page.context.close()
    async with rig.running.platform.sessions() as session:
        incident = await incidents_service.get_incident(session, incident_id)
    assert incident.phase == "response" and incident.alert_ids == [state["alert_id"]]


async def test_viewer_reads_the_incident_but_has_no_forms(rig: Rig) -> None:
    incident_id, action_id = state["incident_id"], state["action_id"]
    page = await rig.console.signed_in("viewer", width=1024, height=768)
    await page.goto(f"{rig.base_url}/incidents/{incident_id}")
    await expect(page.locator("#incident-phase")).to_have_attribute("data-phase", "response")
    for form in ("#btn-advance", "#btn-propose", "#note-form", "#role-form", "#btn-evidence"):
        await expect(page.locator(form)).to_have_count(0)
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1024, f"the incident page scrolls sideways at 1024 px ({width} px wide)"
    await page.goto(f"{rig.base_url}/actions/{action_id}")
    await expect(page.locator("#action-status")).to_have_attribute("data-status", "verified")
    await expect(page.locator("#btn-approve")).to_have_count(0)
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 1024, f"the action page scrolls sideways at 1024 px ({width} px wide)"
    approvals = await page.locator("#approvals").evaluate("e => e.scrollWidth <= e.clientWidth")
    assert approvals, "the approvals table is wider than its card at 1024 px"
    await page.screenshot(path=ARTIFACTS / "incident-viewer-1024.png", full_page=True)
    await page.context.close()
