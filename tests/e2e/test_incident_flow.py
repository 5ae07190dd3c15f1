"""Issue 6's end-to-end acceptance on the devnet, through the platform as ``fictra up`` runs it:

reserve-drain → P0 alert → incident declared with evidence → automatic guardian pause (policy enabled by
an approved action) confirmed within a few blocks → every contract verified paused → stakeholders
notified (a real webhook receiver) → unpause needs two approvals and goes through the Timelock → the
incident cannot close until its post-incident outputs exist → the PDF report renders (page 1 → PNG).
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from PIL import Image
from sqlalchemy import select

from e2e.harness import Running, start
from fictra.alerting.schemas import AlertView
from fictra.audit.models import AuditEntry
from fictra.auth.actor import SYSTEM, Actor
from fictra.auth.permissions import default_roles
from fictra.auth.service import create_user
from fictra.emergency import service as actions
from fictra.emergency.ledger import ActionsLedger
from fictra.emergency.runner import ActionRunner
from fictra.emergency.types import ActionView
from fictra.errors import ConflictError
from fictra.incidents import communications, evidence, report, tasks
from fictra.incidents import service as incidents
from fictra.incidents.schemas import IncidentView
from notify.receiver import Receiver

T = TypeVar("T")
PASSWORD = "E2e-Incident-Passphrase-42"
PEOPLE = {
    "sam": "security_officer",
    "lee": "technical_lead",
    "olga": "operations_manager",
    "ray": "technical_lead",
}
# "within a few blocks": the alert's block to the pause's confirmation (2 confirmations on top of inclusion)
PAUSE_WITHIN_BLOCKS = 6


def _actor(name: str) -> Actor:
    role = PEOPLE[name]
    return Actor(None, name, (role,), default_roles().permissions_of([role]), "session")


async def _eventually(what: str, probe: Callable[[], Awaitable[T | None]], *, seconds: float = 20.0) -> T:
    """For work the platform does on its own tasks (evidence jobs, outbox deliveries): poll its result."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        found = await probe()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not done within {seconds}s: {what}")
        await asyncio.sleep(0.05)


def _stakeholders_to(url: str) -> Callable[[Path], None]:
    """Route every stakeholder group to a real webhook receiver."""

    def configure(config_dir: Path) -> None:
        receivers = yaml.safe_load((config_dir / "receivers.yaml").read_text())
        receivers["receivers"].append(
            {"name": "stakeholders", "channels": [{"type": "webhook", "url": f"{url}/stakeholders"}]}
        )
        (config_dir / "receivers.yaml").write_text(yaml.safe_dump(receivers))
        cfg = yaml.safe_load((config_dir / "incidents.yaml").read_text())
        cfg["groups"] = {group: ["stakeholders"] for group in cfg["groups"]}
        (config_dir / "incidents.yaml").write_text(yaml.safe_dump(cfg))

    return configure


class Flow:
    def __init__(self, running: Running) -> None:
        self.running = running
        self.platform = running.platform
        self.sessions = running.platform.sessions
        self.clock = running.platform.clock
        runner = getattr(self.platform, "emergency", None)
        assert isinstance(runner, ActionRunner)
        self.runner = runner

    async def users(self) -> None:
        roles = default_roles()
        async with self.sessions.begin() as s:
            for name, role in PEOPLE.items():
                await create_user(
                    s,
                    username=name,
                    roles=[role],
                    password=PASSWORD,
                    role_map=roles,
                    actor=SYSTEM,
                    clock=self.clock,
                )

    async def propose(self, kind: str, who: str, **kw: Any) -> ActionView:
        async with self.sessions.begin() as s:
            return await actions.propose(
                s, kind=kind, params=kw.pop("params", {}), actor=_actor(who), clock=self.clock, **kw
            )

    async def approve(self, view: ActionView, who: str) -> ActionView:
        async with self.sessions.begin() as s:
            return await actions.approve(
                s, action_id=view.id, actor=_actor(who), clock=self.clock, params_hash=view.params_hash
            )

    async def action(self, action_id: int) -> ActionView:
        async with self.sessions() as s:
            return await actions.get_action(s, action_id)

    async def incident(self, incident_id: int) -> IncidentView:
        async with self.sessions() as s:
            return await incidents.get_incident(s, incident_id)

    async def paused(self) -> dict[str, bool]:
        chain = self.running.chain
        targets = await chain.call("EmergencyController", "pausables")
        return {str(t): bool(await chain.at("PaymentToken", t).functions.paused().call()) for t in targets}

    async def until_status(self, action_id: int, wanted: str, *, blocks: int) -> tuple[ActionView, int]:
        """Mine one block at a time until the action reaches ``wanted`` (the runner follows the head, so
        each block gets up to a second — a devnet block time — to be noticed); returns the action and the
        number of blocks mined."""
        loop = asyncio.get_running_loop()
        for mined in range(blocks + 1):
            deadline = loop.time() + 1.0
            while True:
                view = await self.action(action_id)
                if view.status == wanted:
                    return view, mined
                assert view.status not in {"failed", "rejected", "cancelled"}, (view.status, view.error)
                if loop.time() > deadline:
                    break
                await asyncio.sleep(0.05)
            await self.running.mine()
            await self.running.settle()
        raise AssertionError(f"action {action_id} is {view.status}, not {wanted}, after {blocks} blocks")

    async def mining(self, work: Awaitable[T]) -> T:
        """Mine a block every half second until ``work`` (which waits for confirmations) is done."""
        task = asyncio.ensure_future(work)
        for _ in range(20):
            done, _ = await asyncio.wait({task}, timeout=0.5)
            if done:
                break
            await self.running.mine()
        return await asyncio.wait_for(task, timeout=10)

    async def output(self, incident_id: int, key: str, text: str, **kw: Any) -> None:
        async with self.sessions.begin() as s:
            await incidents.record_output(
                s, incident_id=incident_id, key=key, text=text, actor=_actor("lee"), clock=self.clock, **kw
            )

    async def advance(self, incident_id: int, phase: str) -> IncidentView:
        async with self.sessions.begin() as s:
            return await incidents.advance(
                s, incident_id=incident_id, to_phase=phase, actor=_actor("lee"), clock=self.clock
            )


@pytest.mark.timeout(300)
async def test_reserve_drain_to_incident_report(tmp_path: Path) -> None:
    receiver = Receiver()
    url = await receiver.start()
    running = await start(
        tmp_path, incidents=True, emergency=True, notify=True, configure=_stakeholders_to(url)
    )
    try:
        await _flow(Flow(running), receiver, tmp_path)
    finally:
        await running.close()
        await receiver.stop()


async def _flow(flow: Flow, receiver: Receiver, tmp_path: Path) -> None:
    await flow.users()

    # -- automatic response is off by default; enabling it is an approved, audited action ------------------
    enable = await flow.propose("policy_enable", "olga", params={"policy": "reserve-drain-pause"})
    await flow.runner.dry_run(enable.id)
    with pytest.raises(ConflictError, match="not approved"):
        await flow.runner.execute(enable.id, _actor("olga"))
    await flow.approve(enable, "sam")
    assert (await flow.runner.execute(enable.id, _actor("olga"))).status == "verified"

    # -- reserve drain -> P0 ------------------------------------------------------------------------------
    await flow.running.scenario("reserve-drain")

    def breach(a: AlertView) -> bool:
        return a.monitor == "contract-status" and a.labels.get("condition") == "reserve_breach"

    alert = await flow.running.wait_for_alert(breach, within_blocks=3)
    assert alert.severity == "P0"
    alert_block = await flow.running.head()

    # -- incident declared by policy, with evidence hashed into the audit log -----------------------------
    async with flow.sessions() as s:
        incident_id = await incidents.incident_for_alert(s, alert.id)
    assert incident_id is not None, "the P0 alert declared no incident"
    declared = await flow.incident(incident_id)
    assert (declared.severity, declared.category, declared.phase) == ("P0", "smart_contract", "detection")

    async def evidence_rows() -> list[Any] | None:
        async with flow.sessions() as s:
            return list(await evidence.list_evidence(s, incident_id=incident_id)) or None

    collected = await _eventually("evidence collected at declaration", evidence_rows)
    async with flow.sessions() as s:
        audited = (
            (await s.execute(select(AuditEntry.after).where(AuditEntry.action == "incident.evidence")))
            .scalars()
            .all()
        )
        for row in collected:
            assert (await evidence.verify(s, incident_id=incident_id, evidence_id=row["id"]))["verified"]
    assert {row["sha256"] for row in collected} <= {str((doc or {}).get("sha256")) for doc in audited}

    # -- the automatic guardian pause, confirmed within a few blocks, verified on chain ---------------------
    async def auto_action() -> ActionView | None:
        async with flow.sessions() as s:
            found = await actions.list_actions(s, incident_id=incident_id)
        return next((a for a in found if a.kind == "pause_all" and a.trigger_alert_id == alert.id), None)

    pause = await _eventually("the policy proposed the pause", auto_action, seconds=10)
    pause, _ = await flow.until_status(pause.id, "verified", blocks=PAUSE_WITHIN_BLOCKS)
    (tx,) = pause.txs
    assert tx.block_number is not None and tx.block_number - alert_block <= PAUSE_WITHIN_BLOCKS
    assert tx.signer == flow.runner.signer_address("guardian")
    assert pause.alert_to_confirmed_seconds is not None and pause.alert_to_confirmed_seconds > 0
    paused = await flow.paused()
    assert paused and all(paused.values()), paused

    # the pause's own P0 alerts (Paused events, contracts paused) are its expected effects: they join this
    # incident rather than declaring new ones
    def pause_effect(a: AlertView) -> bool:
        return a.monitor == "pt-paused" or a.labels.get("condition") == "paused"

    effects = [a for a in await flow.running.alerts() if pause_effect(a)]
    assert effects, "the pause raised no alert"
    async with flow.sessions() as s:
        assert [i.id for i in await incidents.list_incidents(s)] == [incident_id]
        for effect in effects:
            assert await incidents.incident_for_alert(s, effect.id) == incident_id, effect

    # -- stakeholders notified: the initial notification and the containment update, over HTTP -------------
    async def deliveries() -> list[str] | None:
        texts = [r.body.decode() for r in receiver.requests]
        ours = [t for t in texts if f"Incident #{incident_id} " in t]
        initial = [t for t in ours if "declared" in t]
        contained = [t for t in ours if "Containment" in t and f"action #{pause.id}" in t]
        return ours if initial and contained else None

    try:
        await _eventually("stakeholders notified (initial + containment)", deliveries)
    except AssertionError as exc:
        got = [r.body[:200] for r in receiver.requests]
        raise AssertionError(f"{exc}; the receiver got: {got}") from None
    contained = await flow.incident(incident_id)
    assert contained.output("containment").status == "done"
    assert contained.output("initial_notification").status == "done"

    # -- unpause: two approvals (one the operations manager), through the Timelock -------------------------
    unpause = await flow.propose("unpause_all", "lee", incident_id=incident_id, reason="reserve refilled")
    await flow.runner.dry_run(unpause.id)
    with pytest.raises(ConflictError, match="operations_manager"):
        await flow.runner.execute(unpause.id, _actor("lee"))
    unpause = await flow.approve(unpause, "olga")
    await flow.runner.dry_run(unpause.id)
    scheduled = await flow.mining(flow.runner.execute(unpause.id, _actor("olga")))
    assert scheduled.status == "scheduled" and scheduled.scheduled_ready_at is not None
    assert all((await flow.paused()).values()), "nothing may unpause before the Timelock's delay"
    await flow.running.chain.increase_time(61)
    await flow.running.mine()
    flow.runner.wake()
    unpaused, _ = await flow.until_status(unpause.id, "verified", blocks=10)
    assert [t.label.split("(")[0] for t in unpaused.txs] == ["Timelock.schedule", "Timelock.execute"]
    assert not any((await flow.paused()).values())
    await flow.running.scenario(
        "reserve-drain", undo=True
    )  # the reserve is refilled (deposits need unpaused)

    # -- the incident cannot close until its post-incident outputs exist ------------------------------------
    with pytest.raises(ConflictError) as refused:
        async with flow.sessions.begin() as s:
            await incidents.close(s, incident_id=incident_id, actor=_actor("lee"), clock=flow.clock)
    for key in ("triage", "root_cause", "corrective_actions", "preventive_measures", "report"):
        assert key in refused.value.user_message, (key, refused.value.user_message)

    await flow.output(
        incident_id, "triage", "Reserve breach confirmed on chain: collateral ratio under 100%."
    )
    await flow.output(
        incident_id, "impact_assessment", "PT under-collateralized; transfers paused by the guardian."
    )
    async with flow.sessions.begin() as s:
        for role, who in (("commander", "lee"), ("responder", "ray"), ("liaison", "olga")):
            await incidents.assign_role(
                s, incident_id=incident_id, role=role, username=who, actor=_actor("lee"), clock=flow.clock
            )
    await flow.advance(incident_id, "response")
    await flow.output(incident_id, "root_cause_investigation", "Reserve manager withdrew every asset.")
    await flow.output(incident_id, "recovery_plan", "Re-deposit, then unpause through the Timelock.")
    async with flow.sessions.begin() as s:
        await communications.send_update(
            s,
            incident_id=incident_id,
            groups=["technical_team"],
            template="status",
            actor=_actor("olga"),
            clock=flow.clock,
        )
    await flow.output(incident_id, "escalation", "Contained by the automatic pause.", not_required=True)
    await flow.advance(incident_id, "recovery")
    for key in ("component_restart", "data_verification", "service_restoration", "performance_validation"):
        await flow.output(incident_id, key, f"{key.replace('_', ' ')}: done and checked.")
    await flow.advance(incident_id, "post_incident")
    await flow.output(incident_id, "analysis", "Single-signer withdrawals allowed a full drain.")
    await flow.output(incident_id, "root_cause", "No withdrawal limit on the Reserve.")
    await flow.output(incident_id, "preventive_measures", "Withdrawal limit + two-person rule.")
    async with flow.sessions.begin() as s:
        await tasks.add_task(
            s,
            incident_id=incident_id,
            title="Add a withdrawal limit to the Reserve",
            owner="ray",
            due_at=flow.clock.now() + timedelta(days=14),
            actor=_actor("lee"),
            clock=flow.clock,
        )
    with pytest.raises(ConflictError, match="report"):
        async with flow.sessions.begin() as s:
            await incidents.close(s, incident_id=incident_id, actor=_actor("lee"), clock=flow.clock)
    async with flow.sessions.begin() as s:
        pdf = await report.generate(
            s, incident_id=incident_id, fmt="pdf", actor=_actor("lee"), clock=flow.clock
        )
    async with flow.sessions.begin() as s:
        closed = await incidents.close(s, incident_id=incident_id, actor=_actor("lee"), clock=flow.clock)
    assert closed.status == "closed"

    # -- the PDF report renders: page 1 converted to a PNG that is not blank ------------------------------
    assert pdf.startswith(b"%PDF")
    pdftoppm = shutil.which("pdftoppm")
    assert pdftoppm, "pdftoppm (poppler-utils) is missing: run `make browser-deps`"
    (tmp_path / "report.pdf").write_bytes(pdf)
    proc = await asyncio.create_subprocess_exec(
        pdftoppm,
        "-png",
        "-r",
        "60",
        "-f",
        "1",
        "-l",
        "1",
        "-singlefile",
        str(tmp_path / "report.pdf"),
        str(tmp_path / "page1"),
    )
    assert await proc.wait() == 0, "pdftoppm could not convert page 1 of the report"
    with Image.open(tmp_path / "page1.png") as page:
        gray = page.convert("L")
        inked = sum(gray.histogram()[:128])  # pixels darker than mid-grey
    assert inked > 1000, f"page 1 of the report is blank ({inked} dark pixels)"
    markdown = await _markdown(flow, incident_id)
    for tx_hash in (pause.txs[0].tx_hash, unpaused.txs[-1].tx_hash):
        assert tx_hash is not None and tx_hash in markdown, tx_hash


async def _markdown(flow: Flow, incident_id: int) -> str:
    async with flow.sessions() as s:
        return (await report.render(s, incident_id, "md", actions=ActionsLedger())).decode()
