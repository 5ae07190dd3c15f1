"""The live terminal view of `fictra up` lists the firing alerts most severe first: a P0 never scrolls away
under newer P3s; resolved alerts are not listed."""

from __future__ import annotations

from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.alerting.findings import Clear, Finding, Severity
from fictra.alerting.service import apply_findings
from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.platform.run import summarize_alerts
from fictra.platform.view import ViewState, render


def finding(n: int, severity: Severity) -> Finding:
    return Finding(
        monitor="m", severity=severity, summary=f"alert {n} {severity.value}", labels={"n": str(n)}
    )


async def test_tty_view_lists_firing_alerts_by_severity(engine: AsyncEngine, clock: FakeClock) -> None:
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        await apply_findings(session, [finding(0, Severity.P0)], head=None, clock=clock)
        for n in range(1, 12):  # eleven newer P3s, one resolved P1
            clock.advance(10)
            await apply_findings(session, [finding(n, Severity.P3)], head=None, clock=clock)
        await apply_findings(session, [finding(99, Severity.P1)], head=None, clock=clock)
        await apply_findings(session, [], [Clear(monitor="m", labels={"n": "99"})], head=None, clock=clock)
    summary = await summarize_alerts(sessions)
    assert [r[0] for r in summary.recent] == ["P0"] + ["P3"] * 7
    assert summary.recent[1][2] == "alert 11 P3"  # newest first within a severity
    console = Console(record=True, width=160)
    console.print(render(ViewState(alerts=summary)))
    text = console.export_text()
    assert text.index("alert 0 P0") < text.index("alert 11 P3")
    assert "alert 99" not in text and "... and 4 more firing" in text
