"""The incidents domain's edges (issue 10) and its text safety (issue 11).

* No incidents module imports the emergency domain or a layer above (platform, api, web, cli, devnet):
  ``platform.assemble`` builds the context and passes the emergency ledger in.
* Emergency facts come only through the ledger passed in: without one, the timeline has no action
  events, an action event is ignored and no alert counts as an action's effect.
* The periodic work runs as named jobs on the real job scheduler.
* Control and bidi characters typed into titles, notes and outputs never reach the record, the
  terminal or the Markdown report; markup in the report is shown, not rendered.
"""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import Finding, Severity
from fictra.clock import FakeClock
from fictra.emergency import service as emergency
from fictra.incidents import report, service
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.flows import IncidentsContext
from fictra.incidents.jobs import incident_jobs
from fictra.incidents.models import Incident, IncidentJob
from fictra.incidents.timeline import timeline
from fictra.jobs import Scheduler
from fictra.monitors.base import MonitorOutput
from fictra.monitors.pipeline import AlertPipeline

from .helpers import LEAD, emergency_actions, events

Sessions = async_sessionmaker[AsyncSession]
PACKAGE = Path(__file__).resolve().parents[2] / "src" / "fictra" / "incidents"
ABOVE = ("emergency", "platform", "api", "web", "cli", "devnet")
HOSTILE = "Reserve \x1b[2J\x1b]0;owned\x07drained\u202e\u2066 <img src=x onerror=alert(1)> [x](javascript:y)"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_incidents_imports_neither_emergency_nor_upper_layers() -> None:
    offenders = {
        f"{path.name}: {name}"
        for path in PACKAGE.glob("*.py")
        for name in _imports(path)
        if name.split(".")[:2] in (["fictra", layer] for layer in ABOVE)
    }
    assert offenders == set()
    assert len(list(PACKAGE.glob("*.py"))) >= 15  # the split modules are all checked
    assert max(p.read_text().count("\n") for p in PACKAGE.glob("*.py")) <= 500


async def test_without_a_ledger_no_action_facts_reach_incidents(sessions: Sessions, clock: FakeClock) -> None:
    ctx = IncidentsContext(config=IncidentsConfig(), clock=clock)
    async with sessions.begin() as s:
        view = await service.declare(s, title="PT paused", severity="P0", category="smart_contract",
                                     actor=LEAD, clock=clock)  # fmt: skip
        action = await emergency.propose(
            s, kind="pause_all", params={}, actor=LEAD, clock=clock, incident_id=view.id, reason="contain"
        )
        verified = SimpleNamespace(action_id=action.id, kind="verified", text="every target paused")
        await ctx.on_action_event(s, verified)  # no ledger: nothing known about the action
    async with sessions() as s:
        bare = [i.kind for i in await timeline(s, view.id)]
        full = [i.kind for i in await timeline(s, view.id, actions=emergency_actions())]
        assert (await service.get_incident(s, view.id)).output("containment").status == "missing"
    assert not any(k.startswith("action.") for k in bare)
    assert "action.proposed" in full and [k for k in full if not k.startswith("action.")] == bare


async def test_incident_jobs_run_on_the_job_scheduler(sessions: Sessions, clock: FakeClock) -> None:
    ctx = IncidentsContext(config=IncidentsConfig(), clock=clock, actions=emergency_actions())
    alerts = AlertPipeline(monitors=[], clock=clock, on_changes=ctx.on_changes)
    finding = Finding(monitor="contract-status", severity=Severity.P0, summary="PT paused",
                      labels={"condition": "paused"})  # fmt: skip
    async with sessions.begin() as s:
        await alerts.ingest(s, MonitorOutput(findings=[finding]), network="devnet", head=None)
    scheduler = Scheduler(sessions=sessions, clock=clock)
    jobs = incident_jobs(ctx)
    assert [(j.name, j.every) for j in jobs] == [
        ("incidents.evidence", timedelta(seconds=15)),
        ("incidents.reminders", timedelta(seconds=15)),
    ]
    for job in jobs:
        scheduler.register(job)
    results = await scheduler.run_due()
    assert sorted(r.job for r in results) == ["incidents.evidence", "incidents.reminders"]
    async with sessions() as s:
        [job_row] = (await s.execute(select(IncidentJob))).scalars().all()
    assert job_row.attempts == 1 and "no RPC pool" in (job_row.error or "")  # the job ran (no pool here)
    clock.advance(31 * 60)  # the P0 cadence (30 min) passed: the reminders job reminds the liaison
    await scheduler.run_due()
    assert any(k == "reminder" for k, _ in await events(sessions, job_row.incident_id))


async def test_control_and_bidi_characters_never_reach_record_terminal_or_report(
    sessions: Sessions, clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        view = await service.declare(s, title=HOSTILE, severity="P1", category="security", actor=LEAD,
                                     clock=clock, summary=f"summary {HOSTILE}")  # fmt: skip
        await service.add_note(s, incident_id=view.id, text=f"note {HOSTILE}", actor=LEAD, clock=clock)
        await service.record_output(
            s, incident_id=view.id, key="triage", text=f"triage {HOSTILE}", actor=LEAD, clock=clock
        )
    async with sessions() as s:
        row = await s.get(Incident, view.id)
        assert row is not None
        text = (await report.render(s, view.id, "md", clock=clock)).decode()
        html = (await report.render(s, view.id, "html", clock=clock)).decode()
    for stored in [row.title, row.summary or "", *(t for _, t in await events(sessions, view.id))]:
        assert not any(c in stored for c in "\x1b\x07\u202e\u2066"), stored
    assert row.title == "Reserve [2J]0;owneddrained <img src=x onerror=alert(1)> [x](javascript:y)"
    assert not any(c in text for c in "\x1b\x07\u202e\u2066")
    assert f"# Incident report — #{view.id}: Reserve \\[2J\\]0;owneddrained \\<img" in text
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript' not in html and "[x](javascript:y)" in html
