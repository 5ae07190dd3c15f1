"""The incident report in Markdown, HTML and PDF: every runbook section with the incident's facts, typed
text escaped in HTML, a PDF whose first page converts to a non-blank PNG (pdftoppm) and whose text is
there (pdftotext); generating it in the post-incident phase records the report output."""

from __future__ import annotations

import asyncio
import hashlib
import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.clock import FakeClock
from fictra.emergency import service as emergency
from fictra.emergency.models import ActionTx
from fictra.errors import NotFoundError, UsageError
from fictra.incidents import communications, report, service, tasks
from fictra.incidents.models import IncidentEvidence
from fictra.incidents.phases import outputs_of

from .helpers import LEAD, add_users, audit, emergency_actions, finding, fire

Sessions = async_sessionmaker[AsyncSession]
TX = "0x" + "5a" * 32


async def _incident(sessions: Sessions, clock: FakeClock) -> int:
    await add_users(sessions, clock, "carol", "dave")
    alert_ids = await fire(sessions, clock, finding("reserve_breach"))
    clock.advance(60)
    async with sessions.begin() as s:
        view = await service.declare(
            s,
            title="Reserve drained | PT at risk",
            severity="P0",
            category="smart_contract",
            actor=LEAD,
            clock=clock,
            alert_ids=alert_ids,
            summary="Collateral ratio fell to 40% after an unauthorised withdrawal.",
        )
        iid = view.id
        await service.assign_role(
            s, incident_id=iid, role="commander", username="carol", actor=LEAD, clock=clock
        )
        await service.assign_role(
            s, incident_id=iid, role="responder", username="dave", actor=LEAD, clock=clock
        )
        await communications.send_update(
            s,
            incident_id=iid,
            groups=["technical_team", "regulators"],
            template="initial",
            actor=LEAD,
            clock=clock,
        )
        action = await emergency.propose(
            s,
            kind="pause_all",
            params={},
            actor=LEAD,
            clock=clock,
            incident_id=iid,
            reason="contain the drain",
        )
        s.add(
            ActionTx(
                action_id=action.id,
                step=0,
                label="pauseAll",
                to="0x" + "11" * 20,
                signer="0x" + "22" * 20,
                tx_hash=TX,
                status="confirmed",
                block_number=1234,
                gas_used=98765,
                confirmations=3,
            )
        )
        document = '{"state":{"block":1234}}'
        s.add(
            IncidentEvidence(
                incident_id=iid,
                collected_at=clock.now(),
                collected_by="system",
                trigger="declaration",
                sha256=hashlib.sha256(document.encode()).hexdigest(),
                document=document,
                summary={"block": 1234},
            )
        )
        await service.add_note(
            s, incident_id=iid, text="<script>alert('x')</script> seen", actor=LEAD, clock=clock
        )
        for key in ("triage", "impact_assessment"):
            await service.record_output(
                s, incident_id=iid, key=key, text=f"{key}: 40% ratio", actor=LEAD, clock=clock
            )
        await service.advance(s, incident_id=iid, to_phase="response", actor=LEAD, clock=clock)
        for spec in outputs_of("response"):
            await service.record_output(
                s, incident_id=iid, key=spec.key, text=f"{spec.key} text", actor=LEAD, clock=clock
            )
        await service.advance(s, incident_id=iid, to_phase="recovery", actor=LEAD, clock=clock)
        for spec in outputs_of("recovery"):
            await service.record_output(
                s, incident_id=iid, key=spec.key, text=f"{spec.key} text", actor=LEAD, clock=clock
            )
        await service.advance(s, incident_id=iid, to_phase="post_incident", actor=LEAD, clock=clock)
        await service.record_output(
            s,
            incident_id=iid,
            key="root_cause",
            text="Withdrawal role granted to an unlisted account",
            actor=LEAD,
            clock=clock,
        )
        await service.record_output(
            s,
            incident_id=iid,
            key="preventive_measures",
            text="Two-person rule on role grants",
            actor=LEAD,
            clock=clock,
        )
        await tasks.add_task(
            s,
            incident_id=iid,
            title="Alert on RESERVE_MANAGER_ROLE grants",
            owner="dave",
            due_at=clock.now() + timedelta(days=10),
            actor=LEAD,
            clock=clock,
        )
    return iid


async def _run(*argv: str) -> str:
    proc = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0, argv
    return out.decode()


async def test_markdown_has_every_section_and_fact(sessions: Sessions, clock: FakeClock) -> None:
    iid = await _incident(sessions, clock)
    async with sessions() as s:
        text = (await report.render(s, iid, "md", clock=clock, actions=emergency_actions())).decode()
    for heading in (
        "## 1. Summary", "## 2. Classification", "## 3. Timeline", "## 4. Impact", "## 5. Root cause",
        "## 6. Actions taken", "## 7. Corrective actions", "## 8. Preventive measures",
        "## 9. Communications log", "## 10. Evidence", "## 11. Recovery",
    ):  # fmt: skip
        assert heading in text
    assert text.startswith(f"# Incident report — #{iid}: Reserve drained \\| PT at risk")  # markup escaped
    assert "Collateral ratio fell to 40%" in text and "| Severity | P0 |" in text
    assert f"`{TX}` block 1234, gas 98765" in text  # the on-chain transaction of the pause
    assert "| Alert on RESERVE_MANAGER_ROLE grants | dave | 2026-01-11 | open |" in text
    assert "Two-person rule on role grants" in text and "Withdrawal role granted" in text
    assert hashlib.sha256(b'{"state":{"block":1234}}').hexdigest() in text
    assert f"\\[P0\\] Incident #{iid} declared: Reserve drained \\| PT at risk" in text  # comms log, escaped
    assert "| alert.fired |" in text and "| incident.phase |" in text and "| action.proposed |" in text


async def test_html_escapes_typed_text(sessions: Sessions, clock: FakeClock) -> None:
    iid = await _incident(sessions, clock)
    async with sessions() as s:
        html = (await report.render(s, iid, "html", clock=clock, actions=emergency_actions())).decode()
    assert html.startswith("<!DOCTYPE html>") and "<table>" in html and "<h2>3. Timeline</h2>" in html
    assert "<script>" not in html and "&lt;script&gt;alert(" in html
    assert f"<title>Incident report #{iid}: Reserve drained | PT at risk</title>" in html


async def test_pdf_renders_a_real_page(sessions: Sessions, clock: FakeClock, tmp_path: Path) -> None:
    iid = await _incident(sessions, clock)
    async with sessions.begin() as s:
        pdf = await report.generate(s, incident_id=iid, fmt="pdf", actor=LEAD, clock=clock)
        view = await service.get_incident(s, iid)
    assert pdf.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    await _run("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(tmp_path / "page"))
    [png] = sorted(tmp_path.glob("page*.png"))
    image = Image.open(io.BytesIO(png.read_bytes())).convert("L")
    assert image.size[0] > 300 and image.size[1] > 400
    dark = sum(image.histogram()[:128])
    assert dark > 2000, "page 1 has text on it"
    text = await _run("pdftotext", str(path), "-")
    assert f"Incident report — #{iid}" in text and "Corrective actions" in text
    report_out = view.output("report")
    assert report_out.status == "done" and report_out.source == "report"
    [entry] = await audit(sessions, "incident.report")
    assert entry["after"]["format"] == "pdf" and entry["after"]["report_output"] is True
    # now every output exists: the incident closes
    async with sessions.begin() as s:
        for key in ("analysis",):
            await service.record_output(s, incident_id=iid, key=key, text="done", actor=LEAD, clock=clock)
        closed = await service.close(s, incident_id=iid, actor=LEAD, clock=clock)
    assert closed.status == "closed"


async def test_report_before_post_incident_does_not_satisfy_the_output(
    sessions: Sessions, clock: FakeClock
) -> None:
    async with sessions.begin() as s:
        view = await service.declare(
            s, title="t", severity="P3", category="compliance", actor=LEAD, clock=clock
        )
        await report.generate(s, incident_id=view.id, fmt="md", actor=LEAD, clock=clock)
        assert (await service.get_incident(s, view.id)).output("report").status == "missing"
        with pytest.raises(UsageError, match=r"Report format 'docx' is not one of: md, html, pdf\."):
            await report.render(s, view.id, "docx")
        with pytest.raises(NotFoundError, match="No incident with id 404"):
            await report.render(s, 404, "md")
