"""Change management's view of the incidents (platform.changes.incidents_on): an open incident whose
linked alert names a component is an incident on that component; a closed or unrelated one is not."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from fictra.alerting.findings import Finding, Severity
from fictra.clock import FakeClock
from fictra.db.engine import session_factory
from fictra.incidents.service import declare
from fictra.monitors.base import MonitorOutput
from fictra.monitors.pipeline import AlertPipeline
from fictra.platform.changes import incidents_on


async def test_open_incident_on_a_component(engine: AsyncEngine, clock: FakeClock) -> None:
    sessions = session_factory(engine)
    pipeline = AlertPipeline(monitors=[], clock=clock)
    finding = Finding(
        monitor="contract-status",
        severity=Severity.P1,
        summary="PaymentToken paused",
        labels={"contract": "PaymentToken", "condition": "paused"},
    )
    async with sessions.begin() as s:
        changes = await pipeline.ingest(s, MonitorOutput(findings=[finding]), network="devnet", head=None)
        alert_id = changes[0].alert_id
        incident = await declare(
            s, title="PT paused", severity="P1", category="smart_contract", actor="lee", clock=clock,
            alert_ids=[alert_id],
        )  # fmt: skip
        await declare(s, title="unrelated", severity="P2", category="security", actor="lee", clock=clock)
    async with sessions() as s:
        facts = await incidents_on(s, ["PaymentToken", "Reserve"])
        none = await incidents_on(s, ["Reserve"])
    assert [(f.id, f.severity, f.components) for f in facts] == [(incident.id, "P1", ("PaymentToken",))]
    assert none == []
