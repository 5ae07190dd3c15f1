"""The incident state machine on SQLite and PostgreSQL: declare, outputs, roles, phases, close — and every
refusal with its message; each change audited and on the timeline in the same transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.audit.models import AuditEntry
from fictra.clock import FakeClock
from fictra.errors import ConflictError, NotFoundError, UsageError
from fictra.incidents import service
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.models import IncidentTask
from fictra.incidents.phases import OUTPUTS, outputs_of

from .helpers import LEAD, add_users, audit, events, finding, fire

Sessions = async_sessionmaker[AsyncSession]


async def _declare(sessions: Sessions, clock: FakeClock, alert_ids: list[int] | None = None) -> int:
    async with sessions.begin() as s:
        view = await service.declare(
            s,
            title="PaymentToken paused",
            severity="P0",
            category="smart_contract",
            actor=LEAD,
            clock=clock,
            alert_ids=alert_ids or [],
            summary="Guardian paused PT",
        )
    return view.id


async def _record(sessions: Sessions, clock: FakeClock, iid: int, *keys: str) -> None:
    async with sessions.begin() as s:
        for key in keys:
            await service.record_output(
                s, incident_id=iid, key=key, text=f"{key} done", actor=LEAD, clock=clock
            )


async def test_declare_from_alerts_records_classification_and_cadence(
    sessions: Sessions, clock: FakeClock
) -> None:
    alert_ids = await fire(sessions, clock, finding("paused"), finding("trading_halted"))
    iid = await _declare(sessions, clock, alert_ids)
    async with sessions() as s:
        view = await service.get_incident(s, iid)
        assert await service.incident_for_alert(s, alert_ids[0]) == iid
        assert await service.incident_for_alert(s, 999_999) is None
    assert view.phase == "detection" and view.status == "open"
    assert view.alert_ids == sorted(alert_ids)
    assert view.output("classification").status == "done"
    assert view.output("classification").text == "P0 / smart_contract"
    assert view.next_update_due == clock.now() + timedelta(minutes=30)
    assert view.missing == ["triage", "impact_assessment", "team_activation", "initial_notification"]
    assert [k for k, _ in await events(sessions, iid)] == ["declared", "output"]
    [entry] = await audit(sessions, "incident.declare")
    assert entry["target"] == f"incident:{iid}" and entry["actor"] == "lead"
    assert entry["after"]["alert_ids"] == sorted(alert_ids)


async def test_declare_from_scratch_uses_configured_cadence(sessions: Sessions, clock: FakeClock) -> None:
    cfg = IncidentsConfig.model_validate({"cadence": {"P2": "2h"}})
    async with sessions.begin() as s:
        view = await service.declare(
            s, title="Slow RPC", severity="P2", category="infrastructure", actor=LEAD, clock=clock, config=cfg
        )
    assert view.alert_ids == [] and view.next_update_due == clock.now() + timedelta(hours=2)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"severity": "P5"}, UsageError, "Severity 'P5' is not one of: P0, P1, P2, P3."),
        ({"category": "weather"}, UsageError, "Category 'weather' is not one of: smart_contract, security"),
        ({"title": "  "}, UsageError, "The incident title is empty"),
        ({"title": "x" * 301}, UsageError, "The incident title has 301 characters; at most 300"),
        ({"alert_ids": [424242]}, NotFoundError, "No alert with id 424242."),
    ],
)
async def test_declare_rejects_bad_input_and_writes_nothing(
    sessions: Sessions, clock: FakeClock, kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    args: dict[str, object] = {"title": "t", "severity": "P1", "category": "security", **kwargs}
    with pytest.raises(error, match=message.replace("(", r"\(").replace(".", r"\.")):
        async with sessions.begin() as s:
            await service.declare(s, actor=LEAD, clock=clock, **args)  # type: ignore[arg-type]
    async with sessions() as s:
        assert await service.list_incidents(s) == []
        assert (await s.execute(select(func.count()).select_from(AuditEntry))).scalar_one() == 0


async def test_advance_refuses_naming_each_missing_output_and_how(
    sessions: Sessions, clock: FakeClock
) -> None:
    iid = await _declare(sessions, clock)
    async with sessions.begin() as s:
        with pytest.raises(ConflictError) as refused:
            await service.advance(s, incident_id=iid, to_phase="response", actor=LEAD, clock=clock)
    msg = refused.value.user_message
    assert msg.startswith(f"Incident {iid} cannot leave phase detection: 4 required output(s) missing")
    for key in ("triage", "impact_assessment", "team_activation", "initial_notification"):
        assert key in msg
    assert "assign an incident commander and at least one responder" in msg
    assert "--template initial" in msg
    async with sessions.begin() as s:
        with pytest.raises(ConflictError, match="it can only advance to response"):
            await service.advance(s, incident_id=iid, to_phase="recovery", actor=LEAD, clock=clock)
        with pytest.raises(UsageError, match="Phase 'done' is not one of"):
            await service.advance(s, incident_id=iid, to_phase="done", actor=LEAD, clock=clock)
        with pytest.raises(NotFoundError, match="No incident with id 999"):
            await service.advance(s, incident_id=999, to_phase="response", actor=LEAD, clock=clock)
    assert await audit(sessions, "incident.advance") == []


async def test_roles_activate_the_team_and_unknown_users_are_refused(
    sessions: Sessions, clock: FakeClock
) -> None:
    await add_users(sessions, clock, "carol", "dave", "erin")
    iid = await _declare(sessions, clock)
    async with sessions.begin() as s:
        view = await service.assign_role(
            s, incident_id=iid, role="commander", username="carol", actor=LEAD, clock=clock
        )
        assert view.output("team_activation").status == "missing"  # no responder yet
        await service.assign_role(s, incident_id=iid, role="scribe", username="erin", actor=LEAD, clock=clock)
        await service.assign_role(
            s, incident_id=iid, role="liaison", username="erin", actor=LEAD, clock=clock
        )
        view = await service.assign_role(
            s, incident_id=iid, role="responder", username="dave", actor=LEAD, clock=clock
        )
    assert view.roles() == {"commander": "carol", "scribe": "erin", "liaison": "erin", "responders": ["dave"]}
    act = view.output("team_activation")
    assert act.status == "done" and act.source == "roles" and act.text == "Commander carol; responders dave"
    async with sessions.begin() as s:
        with pytest.raises(NotFoundError, match=r"No user 'mallory'\. Add them with `fictra users add"):
            await service.assign_role(
                s, incident_id=iid, role="scribe", username="mallory", actor=LEAD, clock=clock
            )
        with pytest.raises(UsageError, match="Incident role 'boss' is not one of: commander, scribe"):
            await service.assign_role(
                s, incident_id=iid, role="boss", username="dave", actor=LEAD, clock=clock
            )
        with pytest.raises(ConflictError, match="'dave' is already a responder"):
            await service.assign_role(
                s, incident_id=iid, role="responder", username="dave", actor=LEAD, clock=clock
            )
        with pytest.raises(ConflictError, match="'erin' is not a responder"):
            await service.assign_role(
                s, incident_id=iid, role="responder", username="erin", actor=LEAD, clock=clock, remove=True
            )
        view = await service.assign_role(
            s, incident_id=iid, role="responder", username="dave", actor=LEAD, clock=clock, remove=True
        )
    assert view.responders == [] and view.output("team_activation").status == "done"  # it happened
    roles = await audit(sessions, "incident.role")
    assert (
        len(roles) == 5
        and roles[-1]["before"]["responders"] == ["dave"]
        and roles[-1]["after"]["responders"] == []
    )


async def test_output_rules(sessions: Sessions, clock: FakeClock) -> None:
    iid = await _declare(sessions, clock)
    async with sessions.begin() as s:
        with pytest.raises(
            UsageError, match="Output 'vibes' is not an incident output; expected one of: triage"
        ):
            await service.record_output(s, incident_id=iid, key="vibes", text="x", actor=LEAD, clock=clock)
        with pytest.raises(ConflictError, match="'corrective_actions' cannot be typed in: add at least one"):
            await service.record_output(
                s, incident_id=iid, key="corrective_actions", text="x", actor=LEAD, clock=clock
            )
        with pytest.raises(
            ConflictError, match=r"'triage' \(Alert triage and verification\) is always required"
        ):
            await service.record_output(
                s, incident_id=iid, key="triage", text="x", actor=LEAD, clock=clock, not_required=True
            )
        with pytest.raises(UsageError, match="The 'triage' output is empty"):
            await service.record_output(s, incident_id=iid, key="triage", text=" ", actor=LEAD, clock=clock)
        view = await service.record_output(
            s,
            incident_id=iid,
            key="escalation",
            text="contained by guardian",
            actor=LEAD,
            clock=clock,
            not_required=True,
        )
        assert view.output("escalation").status == "not_required"
        # containment satisfied by a verified action, recorded by the integrator, while still in detection
        view = await service.record_output(
            s,
            incident_id=iid,
            key="containment",
            text="pause_all verified",
            actor="system",
            clock=clock,
            source="action:12",
        )
        assert view.output("containment").source == "action:12"
        view = await service.record_output(
            s, incident_id=iid, key="triage", text="first", actor=LEAD, clock=clock
        )
        view = await service.record_output(
            s, incident_id=iid, key="triage", text="second", actor=LEAD, clock=clock
        )
    assert view.output("triage").text == "second"
    entries = await audit(sessions, "incident.output")
    assert entries[-1]["before"] == {"triage": {"status": "done", "text": "first", "source": "manual"}}
    timeline = await events(sessions, iid)
    assert ("output", "Containment measures recorded: pause_all verified") in timeline


async def _through_detection(sessions: Sessions, clock: FakeClock, iid: int) -> None:
    await _record(
        sessions, clock, iid, "triage", "impact_assessment", "team_activation", "initial_notification"
    )


async def test_full_lifecycle_to_close(sessions: Sessions, clock: FakeClock) -> None:
    iid = await _declare(sessions, clock)
    await _through_detection(sessions, clock, iid)
    async with sessions.begin() as s:
        view = await service.advance(
            s, incident_id=iid, to_phase="response", actor=LEAD, clock=clock, note="go"
        )
    assert view.phase == "response" and view.missing == [o.key for o in outputs_of("response")]
    await _record(sessions, clock, iid, *view.missing)
    async with sessions.begin() as s:
        view = await service.advance(s, incident_id=iid, to_phase="recovery", actor=LEAD, clock=clock)
    await _record(sessions, clock, iid, *view.missing)
    async with sessions.begin() as s:
        view = await service.advance(s, incident_id=iid, to_phase="post_incident", actor=LEAD, clock=clock)
    assert view.missing == ["analysis", "root_cause", "corrective_actions", "preventive_measures", "report"]
    await _record(sessions, clock, iid, "analysis", "root_cause", "preventive_measures", "report")
    async with sessions.begin() as s:
        with pytest.raises(ConflictError) as refused:
            await service.close(s, incident_id=iid, actor=LEAD, clock=clock)
    assert "1 required output(s) missing — corrective_actions (Corrective actions): add at least one" in (
        refused.value.user_message
    )
    async with sessions.begin() as s:
        s.add(
            IncidentTask(
                incident_id=iid,
                title="Add reserve alarms",
                owner="carol",
                due_at=clock.now() + timedelta(days=7),
                status="open",
                created_by="lead",
                created_at=clock.now(),
            )
        )
    async with sessions.begin() as s:
        view = await service.close(s, incident_id=iid, actor=LEAD, clock=clock, note="all done")
    assert view.status == "closed" and view.phase == "closed" and view.closed_at == clock.now()
    assert view.next_update_due is None and view.missing == []
    assert all(o.status != "missing" for o in view.outputs) and len(view.outputs) == len(OUTPUTS)
    kinds = [k for k, _ in await events(sessions, iid)]
    assert kinds.count("phase") == 3 and kinds[-1] == "closed"
    async with sessions.begin() as s:
        with pytest.raises(ConflictError, match=f"Incident {iid} was closed at .*cannot be changed"):
            await service.record_output(
                s, incident_id=iid, key="triage", text="late", actor=LEAD, clock=clock
            )
        with pytest.raises(ConflictError, match="cannot be closed again"):
            await service.close(s, incident_id=iid, actor=LEAD, clock=clock)
        with pytest.raises(ConflictError, match="cannot be advanced"):
            await service.advance(s, incident_id=iid, to_phase="recovery", actor=LEAD, clock=clock)
        await service.add_note(s, incident_id=iid, text="late finding", actor=LEAD, clock=clock)
    actions = [e["action"] for e in await audit(sessions)]
    assert actions.count("incident.advance") == 3 and actions.count("incident.close") == 1
    assert actions[-1] == "incident.note"
    async with sessions() as s:
        assert [i.id for i in await service.list_incidents(s, status="closed")] == [iid]
        assert await service.list_incidents(s, status="open") == []


async def test_close_from_detection_lists_every_missing_output(sessions: Sessions, clock: FakeClock) -> None:
    iid = await _declare(sessions, clock)
    async with sessions.begin() as s:
        with pytest.raises(ConflictError) as refused:
            await service.close(s, incident_id=iid, actor=LEAD, clock=clock)
    assert (
        f"Incident {iid} cannot close: {len(OUTPUTS) - 1} required output(s) missing"
        in refused.value.user_message
    )


async def test_concurrent_advance_only_one_wins(sessions: Sessions, clock: FakeClock) -> None:
    iid = await _declare(sessions, clock)
    await _through_detection(sessions, clock, iid)
    async with sessions.begin() as s:
        await service.advance(s, incident_id=iid, to_phase="response", actor=LEAD, clock=clock)
    async with sessions.begin() as s:
        with pytest.raises(ConflictError, match="is in phase response; it can only advance to recovery"):
            await service.advance(s, incident_id=iid, to_phase="response", actor=LEAD, clock=clock)


async def test_link_alerts_and_list_filters(sessions: Sessions, clock: FakeClock) -> None:
    first = await fire(sessions, clock, finding("paused"))
    iid = await _declare(sessions, clock, first)
    later = await fire(sessions, clock, finding("reserve_breach", block=120))
    async with sessions.begin() as s:
        view = await service.link_alerts(
            s, incident_id=iid, alert_ids=[*first, *later], actor=LEAD, clock=clock
        )
        again = await service.link_alerts(s, incident_id=iid, alert_ids=later, actor=LEAD, clock=clock)
        other = await service.declare(
            s, title="gas", severity="P3", category="infrastructure", actor=LEAD, clock=clock
        )
    assert view.alert_ids == sorted(first + later) == again.alert_ids
    assert [k for k, _ in await events(sessions, iid)].count("alerts_linked") == 1
    async with sessions() as s:
        assert [i.id for i in await service.list_incidents(s, severity="p3")] == [other.id]
        assert [i.id for i in await service.list_incidents(s, category="smart_contract")] == [iid]
        assert [i.id for i in await service.list_incidents(s)] == [other.id, iid]
        with pytest.raises(UsageError, match=r"Status 'pending' is not one of: open, closed\."):
            await service.list_incidents(s, status="pending")


async def test_reclassify_moves_the_cadence_and_rerecords_classification(
    sessions: Sessions, clock: FakeClock
) -> None:
    iid = await _declare(sessions, clock)  # P0 smart_contract, next update in 30 min
    clock.advance(60)
    async with sessions.begin() as s:
        view = await service.reclassify(
            s,
            incident_id=iid,
            severity="P2",
            reason="only the test token is affected",
            actor=LEAD,
            clock=clock,
        )
    assert view.severity == "P2" and view.category == "smart_contract"
    assert view.next_update_due == view.declared_at + timedelta(hours=4)
    classification = view.output("classification")
    assert classification.source == "reclassified"
    assert (
        classification.text
        == "P2 / smart_contract (was P0 / smart_contract): only the test token is affected"
    )
    [entry] = await audit(sessions, "incident.classify")
    assert (
        entry["before"] == {"severity": "P0", "category": "smart_contract"}
        and entry["after"]["severity"] == "P2"
    )
    async with sessions.begin() as s:
        with pytest.raises(ConflictError, match="is already P2 / smart_contract; nothing to change"):
            await service.reclassify(s, incident_id=iid, severity="P2", actor=LEAD, clock=clock)
        with pytest.raises(UsageError, match="Nothing to change"):
            await service.reclassify(s, incident_id=iid, actor=LEAD, clock=clock)
        with pytest.raises(UsageError, match="Category 'weather' is not one of"):
            await service.reclassify(s, incident_id=iid, category="weather", actor=LEAD, clock=clock)
