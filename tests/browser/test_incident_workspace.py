"""The incident workspace in a real browser (issue 12, item 14): an incident with a realistic amount of data
(several alerts, a team, status updates, tasks, a long timeline) fits a 1280x800 screen's worth of scrolling:
the summary, what it waits for and the primary actions on top, the secondary sections collapsed with their
counts in the summary line, the timeline bounded with a "show all" link, and no CSP violation.

The data goes in through the real services (alerts through the platform's own alert pipeline), the page is
Chromium against the served console (tests/browser/conftest.py's ``console`` rig)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import expect

from browser.conftest import ARTIFACTS, Console
from fictra.alerting.findings import Finding, Severity
from fictra.auth.actor import SYSTEM
from fictra.incidents import communications, roles, service, tasks
from fictra.monitors.base import MonitorOutput
from fictra.web.incidents.detail import TIMELINE_LIMIT

pytestmark = [pytest.mark.e2e]
MAX_HEIGHT = 1800


async def _busy_incident(console: Console) -> int:
    platform = console.running.platform
    clock = platform.clock
    findings = [
        Finding(
            monitor="workspace-test",
            severity=Severity.P2,
            summary=f"Reserve outflow {n} above the hourly limit",
            labels={"contract": "Reserve", "condition": f"outflow_{n}"},
        )
        for n in range(5)
    ]
    async with platform.sessions.begin() as db:
        changes = await platform.pipeline.ingest(
            db, MonitorOutput(findings=findings), network=platform.config.network.name, head=None
        )
    alert_ids = sorted({c.alert_id for c in changes})
    assert len(alert_ids) == 5
    async with platform.sessions.begin() as db:
        incident = await service.declare(
            db,
            title="Reserve outflows above limits",
            severity="P1",
            category="smart_contract",
            actor=SYSTEM,
            clock=clock,
            alert_ids=alert_ids,
            summary="Five outflows above the hourly limit within ten minutes.",
        )
    iid = incident.id
    async with platform.sessions.begin() as db:
        for role, user in [("commander", "lead"), ("scribe", "auditor"), ("responder", "viewer")]:
            await roles.assign_role(db, incident_id=iid, role=role, username=user, actor=SYSTEM, clock=clock)
        for template in ("initial", "status", "status"):
            await communications.send_update(
                db, incident_id=iid, groups=["technical_team"], template=template, actor=SYSTEM, clock=clock
            )
        for n in range(3):
            await tasks.add_task(
                db,
                incident_id=iid,
                title=f"Lower the outflow limit step {n}",
                owner="lead",
                due_at=clock.now() + timedelta(days=3 + n),
                actor=SYSTEM,
                clock=clock,
            )
        for n in range(2 * TIMELINE_LIMIT):
            await service.add_note(
                db,
                incident_id=iid,
                text=f"checked outflow {n % 5}: " + "details " * 12,
                actor=SYSTEM,
                clock=clock,
            )
    return iid


async def _height(page: Any) -> int:
    return int(await page.evaluate("() => document.documentElement.scrollHeight"))


async def test_the_incident_workspace_is_compact(console: Console) -> None:
    iid = await _busy_incident(console)
    page = await console.signed_in("lead", width=1280, height=800)
    violations: list[str] = []  # Chromium reports every CSP refusal on the console
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    await page.goto(f"{console.base_url}/incidents/{iid}")
    # the summary line counts what the collapsed sections hold
    counts = page.locator("#section-counts")
    await expect(counts.locator("a[href='#fold-roles']")).to_have_attribute("data-count", "3")
    await expect(counts.locator("a[href='#fold-comms']")).to_have_attribute("data-count", "3")
    await expect(counts.locator("a[href='#fold-tasks']")).to_have_attribute("data-count", "3")
    await expect(page.locator("#incident-alerts a")).to_have_count(5)
    # the team is assigned and the initial notification sent: nothing in the detection phase needs
    # the roles or the communications, so every secondary section starts collapsed
    for fold in ("roles", "comms", "tasks", "evidence"):
        await expect(page.locator(f"#fold-{fold}")).not_to_have_attribute("open", "")
    await expect(page.locator("#role-form")).to_be_hidden()
    await expect(page.locator("#btn-propose")).to_be_visible()  # primary actions stay on top
    await expect(page.locator("#btn-advance")).to_be_visible()
    # the timeline: the declaration (the alerts fired before it are in the gap), "show all", the newest
    items = page.locator("#timeline-items > li[data-kind]")
    await expect(items).to_have_count(TIMELINE_LIMIT + 1)
    await expect(items.first).to_have_attribute("data-kind", "incident.declared")
    await expect(page.locator("#timeline-show-all")).to_be_visible()
    height = await _height(page)
    await page.screenshot(path=ARTIFACTS / "incident-workspace-collapsed.png", full_page=True)
    assert height < MAX_HEIGHT, f"the incident page is {height} px tall at 1280x800 (limit {MAX_HEIGHT})"

    # expanding a section shows it, without any script of the page's own
    await page.click("#fold-tasks > summary")
    await expect(page.locator("#fold-tasks")).to_have_attribute("open", "")
    await expect(page.locator("#incident-tasks tbody tr")).to_have_count(3)
    await expect(page.locator("#task-form")).to_be_visible()
    await page.click("#fold-roles > summary")
    await expect(page.locator("#role-commander")).to_have_text("lead")
    assert await _height(page) > height

    # the tabs filter, "show all" lists everything
    await page.click("#timeline-tabs a[data-tab='notes']")
    await expect(page.locator("#timeline-tabs a.current")).to_have_attribute("data-tab", "notes")
    notes = page.locator("#timeline-items > li[data-kind]")
    await expect(notes).to_have_count(TIMELINE_LIMIT)
    assert set(await notes.evaluate_all("els => els.map(e => e.dataset.kind)")) == {"incident.note"}
    await page.click("#timeline-show-all")
    await expect(notes).to_have_count(2 * TIMELINE_LIMIT)
    await expect(page.locator("#timeline-show-all")).to_have_count(0)

    assert violations == [], f"CSP violations: {violations}"
    await page.context.close()
