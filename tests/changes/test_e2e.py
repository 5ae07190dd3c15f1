"""Issue 14's acceptance on a real devnet with the platform running (follower, rules, alert response,
maintenance holding, the emergency action runner signing with the devnet keys):

a normal change "PT fee 0.50% -> 0.60%" is requested, assessed (components, monitors listed), risk-scored,
refused an approval by a wrong role, its approval voided by an edit, approved by the three roles of its
rule, scheduled after acknowledging its conflicts (a second change on PaymentToken in the same slot is
flagged) — which opens its maintenance window —, implemented through the Timelock (the step's set_pt_fee
action proposed from the change, approved, dry-run, scheduled, executed after the delay with
evm_increaseTime), verified by its CEL check over the fee read from the chain, reviewed with the
before/after series and chart, and closed; the FeeChanged alert raised inside the window is held (muted by
the window, no notification); the change-request PDF renders (page 1 to PNG: not blank).

Then a change whose verification fails (the fee is not what it expects) is failed, its rollback step is
executed on chain the same way (Timelock), and it is rolled back, with the timeline to show it.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from PIL import Image
from sqlalchemy import func, select

from e2e.harness import Running, start
from fictra.alerting import actions as alert_actions
from fictra.alerting.schemas import AlertView
from fictra.api.routes.changes import release_window
from fictra.auth.actor import Actor
from fictra.changes import assess, document, implement, review, schedule, service
from fictra.changes.context import ChangesContext, detail
from fictra.changes.metrics import Period
from fictra.changes.schemas import ChangeInput, ReviewInput
from fictra.changes.service import ChangeRefused
from fictra.devnet.accounts import one
from fictra.emergency import service as actions
from fictra.emergency.runner import ActionRunner
from fictra.errors import PermissionDeniedError
from fictra.maintenance.models import MaintenanceEvent, MaintenanceWindow
from fictra.notify.models import Notification
from fictra.platform.operations import operations_summary
from fictra.response.models import AlertResponse

pytestmark = [pytest.mark.e2e]
T = TypeVar("T")
NO = {"touches_funds": False, "irreversible": False, "untested": False}


def person(name: str, role: str) -> Actor:
    return Actor(None, name, (role,), frozenset({"*"}), "session")


RITA, TOM, SAM = (
    person("rita", "technical_lead"),
    person("tom", "technical_lead"),
    person("sam", "system_architect"),
)
OLGA, ANN = person("olga", "operations_manager"), person("ann", "auditor")


class E2E:
    def __init__(self, running: Running) -> None:
        self.running = running
        self.sessions = running.platform.sessions
        ctx = running.platform.changes
        runner = running.platform.emergency
        assert isinstance(ctx, ChangesContext) and isinstance(runner, ActionRunner)
        self.ctx, self.runner, self.clock = ctx, runner, ctx.clock

    async def tx(self, fn: Callable[[Any], Awaitable[T]]) -> T:
        async with self.sessions.begin() as s:
            return await fn(s)

    async def chain_time(self) -> datetime:
        block = await self.running.chain.rpc.call("eth_getBlockByNumber", ["latest", False])
        return datetime.fromtimestamp(int(block["timestamp"], 16), UTC)

    async def fee(self) -> int:
        return int(await self.running.chain.call("PaymentToken", "feeBps"))

    async def action_until(self, action_id: int, wanted: str, *, blocks: int = 8) -> Any:
        for _ in range(blocks + 1):
            deadline = asyncio.get_running_loop().time() + 1.0
            while asyncio.get_running_loop().time() < deadline:
                async with self.sessions() as s:
                    view = await actions.get_action(s, action_id)
                if view.status == wanted:
                    return view
                assert view.status not in {"failed", "rejected", "cancelled"}, (view.status, view.error)
                await asyncio.sleep(0.05)
            await self.running.mine()
            await self.running.settle()
        raise AssertionError(f"action {action_id} is {view.status}, not {wanted}")

    async def on_chain(self, change_id: int, phase: str, position: int, target_fee: int) -> int:
        """Propose the step's action from the change, approve it (recovery rule), dry-run it, schedule it on
        the Timelock, pass the delay, let the runner execute and verify it; tick the step."""
        action_id = await self.tx(lambda s: implement.run_step(
            s, change_id=change_id, phase=phase, position=position, propose=self.ctx.propose_action,
            actor=TOM, clock=self.clock,
        ))  # fmt: skip
        async with self.sessions() as s:
            view = await actions.get_action(s, action_id)
        assert view.kind == "set_pt_fee" and f"change #{change_id}" in (view.reason or "")
        for who in (OLGA, SAM):
            view = await self.tx(lambda s, who=who: actions.approve(
                s, action_id=action_id, actor=who, clock=self.clock, params_hash=view.params_hash
            ))  # fmt: skip
        dry = await self.runner.dry_run(action_id)
        assert dry.ok, dry.summary
        task = asyncio.ensure_future(self.runner.execute(action_id, OLGA))
        while not task.done():
            await asyncio.wait({task}, timeout=0.3)
            await self.running.mine()
        assert (await task).status == "scheduled"
        await self.running.chain.increase_time(61)
        done = await self.action_until(action_id, "verified")
        assert await self.fee() == target_fee and done.verification["fee_bps"] == target_fee
        await self.tx(lambda s: implement.complete_step(
            s, change_id=change_id, phase=phase, position=position, note=f"action {action_id} verified",
            actor=TOM, clock=self.clock,
        ))  # fmt: skip
        return action_id


def fee_change(title: str, fee: int, back: int, *, check: int, start_in: timedelta, **kw: Any) -> ChangeInput:
    start = datetime.now(UTC).replace(microsecond=0) + start_in
    return ChangeInput.model_validate({
        "title": title, "description": "Treasury asked for it.", "type": "normal",
        "category": "protocol_parameter", "components": ["PaymentToken"], "implementer": "tom",
        "planned_start": start, "planned_end": start + timedelta(minutes=30),
        "steps": [{"text": f"Set the PT fee to {fee} bps", "action_kind": "set_pt_fee",
                   "action_params": {"fee_bps": fee}}] if fee else [{"text": "Announce the fee"}],
        "verification": [{"name": f"fee is {check} bps", "expr": f"pt_fee_bps == {check}"}],
        "rollback_plan": f"Set the fee back to {back} bps through the Timelock.",
        "rollback_steps": [{"text": f"Restore {back} bps", "action_kind": "set_pt_fee",
                            "action_params": {"fee_bps": back}}],
        "notify": ["treasury"], **kw,
    })  # fmt: skip


async def to_authorization(e: E2E, data: ChangeInput) -> int:
    cfg = e.ctx.config

    async def go(s: Any) -> int:
        c = await service.create(s, cfg=cfg, data=data, actor=RITA, clock=e.clock)
        await service.transition(s, cfg=cfg, change_id=c.id, action="submit", actor=RITA, clock=e.clock)
        await assess.assess(
            s, cfg=cfg, change_id=c.id, answers=NO, watched_by=e.ctx.watched_by,
            incidents_on=e.ctx.incidents_on, actor=RITA, clock=e.clock,
        )  # fmt: skip
        await service.transition(
            s, cfg=cfg, change_id=c.id, action="request_authorization", actor=RITA, clock=e.clock
        )
        return c.id

    return await e.tx(go)


async def approve_all(e: E2E, cid: int) -> None:
    for who in (TOM, SAM, OLGA):
        async with e.sessions() as s:
            h = (await detail(s, change_id=cid, clock=e.clock))["content_hash"]
        await e.tx(
            lambda s, who=who, h=h: service.approve(
                s, change_id=cid, content_hash=h, actor=who, clock=e.clock
            )
        )


async def implement_and_schedule(e: E2E, cid: int) -> None:
    cfg = e.ctx.config
    await e.tx(lambda s: schedule.acknowledge(
        s, cfg=cfg, change_id=cid, incidents_on=e.ctx.incidents_on, actor=SAM, clock=e.clock, note="seen"
    ))  # fmt: skip
    await e.tx(lambda s: schedule.schedule(
        s, cfg=cfg, change_id=cid, incidents_on=e.ctx.incidents_on, actor=RITA, clock=e.clock,
        open_window=e.ctx.open_window,
    ))  # fmt: skip
    await e.tx(
        lambda s: service.transition(s, cfg=cfg, change_id=cid, action="start", actor=TOM, clock=e.clock)
    )


def fee_alert(a: AlertView) -> bool:
    return a.labels.get("rule") == "pt-fee-changed"


@pytest.mark.timeout(240)
async def test_pt_fee_change_end_to_end_and_a_rollback(tmp_path: Path) -> None:
    running = await start(tmp_path / "run", response=True, emergency=True)
    try:
        await _flow(E2E(running), tmp_path)
    finally:
        await running.close()


async def _flow(e: E2E, tmp_path: Path) -> None:
    cfg = e.ctx.config
    # the fee is 0.50 % before the change (the devnet's fee manager sets it; the alert it raises, outside
    # any window, is handled and resolved by hand)
    await e.running.chain.send(one("fee_manager").address, "PaymentToken", "setFee", 50)
    before = await e.running.wait_for_alert(fee_alert, within_blocks=3)
    await e.tx(
        lambda s: alert_actions.resolve(s, alert_id=before.id, actor=TOM, clock=e.clock, note="expected")
    )

    await e.running.mine(3)  # chart series before the change (the review compares them with after)
    await e.running.settle()

    # -- requested, assessed (components, monitors), risk-scored ----------------------------------------
    data = fee_change("PT fee 0.50% -> 0.60%", 60, 50, check=60, start_in=timedelta(minutes=-1))
    cid = await to_authorization(e, data)
    async with e.sessions() as s:
        d = await detail(s, change_id=cid, clock=e.clock)
    assert d["impact"]["components"] == ["PaymentToken"] and "pt-cash-pool" in d["impact"]["dependents"]
    assert "rule:pt-fee-changed" in d["impact"]["watched_by"]
    assert d["risk"] == "high" and d["rule"]["roles"] == [
        "technical_lead",
        "system_architect",
        "operations_manager",
    ]

    # -- an approval by a wrong role refused; an approval voided by an edit ------------------------------
    with pytest.raises(
        PermissionDeniedError, match="needs a technical_lead or system_architect or operations_manager"
    ):
        await e.tx(
            lambda s: service.approve(
                s, change_id=cid, content_hash=d["content_hash"], actor=ANN, clock=e.clock
            )
        )
    await e.tx(
        lambda s: service.approve(s, change_id=cid, content_hash=d["content_hash"], actor=TOM, clock=e.clock)
    )
    edited = data.model_copy(update={"description": "Treasury asked for it; announced on the 1st."})
    await e.tx(lambda s: service.edit(s, cfg=cfg, change_id=cid, data=edited, actor=RITA, clock=e.clock))
    with pytest.raises(ChangeRefused, match="content changed"):
        await e.tx(
            lambda s: service.approve(
                s, change_id=cid, content_hash=d["content_hash"], actor=SAM, clock=e.clock
            )
        )
    async with e.sessions() as s:
        d = await detail(s, change_id=cid, clock=e.clock)
    assert [a["current"] for a in d["approvals"]] == [False] and not d["approval_status"]["satisfied"]
    await approve_all(e, cid)

    # -- a second change on PaymentToken in the same slot is flagged ---------------------------------------
    other = await to_authorization(
        e, fee_change("Pause PT fees for the audit", 0, 50, check=0, start_in=timedelta(0))
    )
    async with e.sessions() as s:
        found = await schedule.conflicts_of(
            s, cfg=cfg, change=await _row(s, cid), incidents_on=e.ctx.incidents_on
        )
    assert any(c["kind"] == "overlap" and c["change_id"] == other for c in found), found
    with pytest.raises(ChangeRefused, match="not acknowledged by an approver"):
        await e.tx(lambda s: schedule.schedule(
            s, cfg=cfg, change_id=cid, incidents_on=e.ctx.incidents_on, actor=RITA, clock=e.clock
        ))  # fmt: skip
    await implement_and_schedule(e, cid)  # acknowledged, scheduled (its window opened), started
    # the period in chain time (the devnet's block time runs ahead of the wall clock after the fast deploy);
    # block timestamps are whole seconds that blocks mined together share: start after the head's second
    started = await e.chain_time() + timedelta(seconds=1)
    live = {
        label: (text, attention)
        for label, text, attention in (await operations_summary(e.running.platform)).rows
    }
    assert live["changes"] == ("1 authorization, 1 implementing", True)  # fictra up's live view
    assert live["maintenance windows open"][0] == "1"
    async with e.sessions() as s:
        window = (
            await s.execute(select(MaintenanceWindow).where(MaintenanceWindow.owner_change_id == cid))
        ).scalar_one()
    assert window.matchers == ['contract=~"PaymentToken"'] and window.owner == "tom"

    # -- implemented through the Timelock; the FeeChanged alert inside the window is held --------------------
    async with e.sessions() as s:
        sent_before = (
            await s.execute(
                select(func.count()).select_from(Notification).where(Notification.alert_id == before.id)
            )
        ).scalar_one()
    assert sent_before > 0, "the same alert outside a window was notified (the control)"
    await e.on_chain(cid, "implement", 0, 60)
    held = await e.running.wait_for_alert(fee_alert, within_blocks=3)
    assert held.id == before.id and "from 50 to 60" in held.summary
    async with e.sessions() as s:
        response = (
            await s.execute(select(AlertResponse).where(AlertResponse.alert_id == held.id))
        ).scalar_one()
        sent_after = (
            await s.execute(
                select(func.count()).select_from(Notification).where(Notification.alert_id == held.id)
            )
        ).scalar_one()
    assert response.muted_by == f"maintenance window {window.id}: {window.title}"
    assert sent_after == sent_before, "the fee-change alert inside the window was notified"

    # -- verified by its CEL check, reviewed with the before/after chart, closed -------------------------
    await e.tx(
        lambda s: implement.verify(
            s, change_id=cid, read_values=e.ctx.read_values, signoffs={}, actor=TOM, clock=e.clock
        )
    )
    await e.tx(
        lambda s: service.transition(s, cfg=cfg, change_id=cid, action="complete", actor=TOM, clock=e.clock)
    )
    # as the API and console do after a move: the implementation is over, the window's work is done
    await e.tx(lambda s: release_window(s, e.ctx, cid, "implementing", TOM, "implemented"))
    async with e.sessions() as s:
        kinds = (
            await s.execute(select(MaintenanceEvent.kind).where(MaintenanceEvent.window_id == window.id))
        ).all()
    assert ("done",) in kinds  # no overrun reminder at the planned end
    ended = await e.chain_time()
    await e.running.mine(3)
    await e.running.settle()
    with pytest.raises(ChangeRefused, match="no post-implementation review"):
        await e.tx(
            lambda s: service.transition(s, cfg=cfg, change_id=cid, action="close", actor=RITA, clock=e.clock)
        )
    rv = ReviewInput(
        success=True, criteria="feeBps() reads 60", lessons_learned="Resolve the setup alert first"
    )
    changed = await e.tx(
        lambda s: review.record_review(
            s,
            change_id=cid,
            review=rv,
            actor=RITA,
            clock=e.clock,
            network=e.ctx.network,
            period=Period(started, ended),
        )
    )
    interval = next(m for m in changed.review["performance"]["metrics"] if m["name"] == "block_interval_s")
    assert interval["before"]["count"] > 0 and interval["after"]["count"] > 0, interval
    await e.tx(
        lambda s: service.transition(s, cfg=cfg, change_id=cid, action="close", actor=RITA, clock=e.clock)
    )
    async with e.sessions() as s:
        html = (
            await document.render(s, cid, "html", clock=e.clock, action_status=e.ctx.action_status)
        ).decode()
        pdf = await document.render(s, cid, "pdf", clock=e.clock, action_status=e.ctx.action_status)
    assert "<svg" in html and "set_pt_fee" in html and "verified" in html
    await _not_blank(pdf, tmp_path)

    # -- a failing verification: failed, the rollback executed on chain, rolled back -------------------------
    bad = await to_authorization(
        e, fee_change("Fee to 0.70% by hand", 0, 50, check=70, start_in=timedelta(hours=2))
    )
    await approve_all(e, bad)
    await implement_and_schedule(e, bad)
    await e.tx(
        lambda s: implement.complete_step(
            s, change_id=bad, phase="implement", position=0, note=None, actor=TOM, clock=e.clock
        )
    )
    checked = await e.tx(
        lambda s: implement.verify(
            s, change_id=bad, read_values=e.ctx.read_values, signoffs={}, actor=TOM, clock=e.clock
        )
    )
    assert checked.verification_result["passed"] is False and checked.verification_result["values"] == {
        "pt_fee_bps": "60"
    }
    await e.tx(
        lambda s: service.transition(s, cfg=cfg, change_id=bad, action="fail", actor=TOM, clock=e.clock)
    )
    await e.on_chain(bad, "rollback", 0, 50)
    rolled = await e.tx(
        lambda s: service.transition(s, cfg=cfg, change_id=bad, action="rollback", actor=TOM, clock=e.clock)
    )
    assert rolled.state == "rolled_back"
    async with e.sessions() as s:
        timeline = [ev["kind"] for ev in (await detail(s, change_id=bad, clock=e.clock))["events"]]
    assert timeline[-6:] == ["step_done", "verified", "fail", "step_proposed", "step_done", "rollback"], (
        timeline
    )


async def _row(s: Any, cid: int) -> Any:
    from fictra.changes.records import load

    return await load(s, cid)


async def _not_blank(pdf: bytes, tmp_path: Path) -> None:
    path = tmp_path / "change.pdf"
    path.write_bytes(pdf)
    proc = await asyncio.create_subprocess_exec(
        "pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")
    )
    assert await proc.wait() == 0
    [png] = sorted(tmp_path.glob("page*.png"))
    image = Image.open(io.BytesIO(png.read_bytes())).convert("L")
    assert sum(image.histogram()[:128]) > 1500, "page 1 of the change request is blank"
