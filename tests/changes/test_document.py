"""The post-implementation review and the change-request document: a change implemented and verified at
a fake time, with chart series recorded before and after (the block interval doubles); the stakeholders
asked for feedback through one-time links, one answering on the public form (used twice: refused), the
review measuring the before/after performance (numbers and an SVG chart), closing refused without the
review; the "Change Requests" template as Markdown, HTML (typed text escaped, the chart inline) and PDF
(page 1 to PNG with pdftoppm: not blank; the text there with pdftotext)."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from api.rig import ApiRig
from fictra.changes import document, feedback, implement, review, schedule, service
from fictra.changes.schemas import ReviewInput
from fictra.changes.service import ChangeRefused
from fictra.series.models import SeriesSample
from web.conftest import LEAD, client_for, csrf_of, rig, sign_in, template_db  # noqa: F401

from .conftest import START, TL, shipped_config
from .test_service import _approve_all, _to_authorization


async def _run(*cmd: str) -> str:
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0, cmd
    return out.decode()


async def _implemented(rig: ApiRig) -> int:  # noqa: F811
    cfg, clock = shipped_config(), rig.clock
    clock.advance((START - clock.now()).total_seconds())

    async def read() -> Mapping[str, Any]:
        return {"pt_fee_bps": 25}

    async with rig.sessions.begin() as s:
        t0 = int(START.timestamp())
        s.add_all(
            [SeriesSample(network="devnet", name="block_interval_s", block_number=i,
                          t=t0 - 3000 + 60 * i, value=2.0) for i in range(40)]
            + [SeriesSample(network="devnet", name="block_interval_s", block_number=100 + i,
                            t=t0 + 600 + 60 * i, value=4.0) for i in range(30)]
        )  # fmt: skip
        cid = await _to_authorization(s, cfg, clock, description="Fee <b>raise</b> [link](http://x)")
        await _approve_all(s, cid, clock)
        await schedule.schedule(s, cfg=cfg, change_id=cid, incidents_on=None, actor=TL, clock=clock)
        await service.transition(s, cfg=cfg, change_id=cid, action="start", actor=TL, clock=clock)
        for pos in (0, 1):
            await implement.complete_step(
                s, change_id=cid, phase="implement", position=pos, note=None, actor=TL, clock=clock
            )
        clock.advance(300)
        await implement.verify(s, change_id=cid, read_values=read, signoffs={}, actor=TL, clock=clock)
        await service.transition(s, cfg=cfg, change_id=cid, action="complete", actor=TL, clock=clock)
    return cid


async def test_review_with_feedback_and_performance_then_document(rig: ApiRig, tmp_path: Path) -> None:  # noqa: F811
    cid = await _implemented(rig)
    cfg, clock = shipped_config(), rig.clock
    async with rig.sessions.begin() as s:
        with pytest.raises(ChangeRefused, match="no post-implementation review"):
            await service.transition(s, cfg=cfg, change_id=cid, action="close", actor=TL, clock=clock)
    async with rig.sessions.begin() as s:
        [link] = await feedback.request_feedback(s, change_id=cid, actor=TL, clock=clock)
    assert link["stakeholder"] == "operations"
    async with client_for(rig) as anyone:  # not signed in: the link is the credential
        form = await anyone.get(f"/feedback/changes/{link['token']}")
        assert form.status_code == 200 and f"Change <b>#{cid}" in form.text
        sent = await anyone.post(
            f"/feedback/changes/{link['token']}", data={"rating": "4", "comment": "Smooth"}
        )
        assert sent.status_code == 200 and "your feedback on change" in sent.text
        again = await anyone.post(f"/feedback/changes/{link['token']}", data={"rating": "1", "comment": "x"})
        assert again.status_code == 409 and "was used" in again.text
        bogus = await anyone.get("/feedback/changes/" + "A" * 32)
        assert bogus.status_code == 404
    async with client_for(rig) as lead:  # the console's review form refuses an empty review
        await sign_in(lead, LEAD)
        page = await lead.get(f"/changes/{cid}")
        form = {"success": "yes", "criteria": "", "csrf_token": csrf_of(page.text)}
        empty = await lead.post(f"/changes/{cid}/review", data=form)
        assert empty.status_code == 422 and "The review is incomplete: criteria" in empty.text
    async with rig.sessions.begin() as s:
        data = ReviewInput(success=True, criteria="Fee reads 25 bps", lessons_learned="Announce earlier")
        change = await review.record_review(
            s, change_id=cid, review=data, actor=TL, clock=clock, network="devnet"
        )
        await service.transition(s, cfg=cfg, change_id=cid, action="close", actor=TL, clock=clock)
    assert change.review is not None
    perf = {m["name"]: m for m in change.review["performance"]["metrics"]}
    latency = perf["block_interval_s"]
    assert (
        latency["before"]["mean"] == 2.0
        and latency["after"]["mean"] == 4.0
        and latency["change_pct"] == 100.0
    )
    assert perf["gas_used_ratio"]["before"]["count"] == 0  # nothing recorded: "no data", not a zero
    assert change.review["feedback"][0]["rating"] == 4
    async with rig.sessions() as s:
        md = (await document.render(s, cid, "md", clock=clock)).decode()
        html = (await document.render(s, cid, "html", clock=clock)).decode()
        pdf = await document.render(s, cid, "pdf", clock=clock)
    assert f"# Change request — #{cid}: Lower the PaymentToken fee to 25 bps" in md
    for section in (
        "## Risk evaluation",
        "## Approvals",
        "## Rollback plan",
        "### Performance impact",
        "operations: 4/5 — Smooth",
        "| latency: block interval (s) | 2 (40) | 4 (30) | +100.0 % |",
    ):
        assert section in md, section  # fmt: skip
    assert "&lt;b&gt;raise&lt;/b&gt;" in html and "<b>raise" not in html and 'href="http://x"' not in html
    assert re.search(r'<figure class="chart"><svg[^>]*aria-label="Performance before and after', html)
    path = tmp_path / "change.pdf"
    path.write_bytes(pdf)
    await _run("pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(path), str(tmp_path / "page"))
    [png] = sorted(tmp_path.glob("page*.png"))
    image = Image.open(io.BytesIO(png.read_bytes())).convert("L")
    assert sum(image.histogram()[:128]) > 2000, "page 1 has text on it"
    text = await _run("pdftotext", str(path), "-")
    assert f"Change request — #{cid}" in text and "Post-implementation review" in text
    async with client_for(rig) as lead:
        await sign_in(lead, LEAD)
        page = await lead.get(f"/changes/{cid}")
        assert 'id="performance-chart"><svg' in page.text and "operations: 4/5" in page.text
        got = await lead.get(f"/changes/{cid}/document.pdf")
        assert got.status_code == 200 and got.content.startswith(b"%PDF")
        api = await lead.get(f"/api/v1/changes/{cid}/document.md")
        assert api.status_code == 200 and api.text.startswith("# Change request")
