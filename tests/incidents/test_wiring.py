"""Auto-declare on the alert store's changes (through the real alert pipeline): every new P0 declares an
incident with its initial notification and an evidence job unless it has the same root cause (monitor,
contract and condition, or a correlation rule) as an open auto-declared incident within the window; the
tick retries evidence jobs and reminds; a verified
containment action records containment. (The platform builds the context: tests/platform.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.findings import Finding, Severity
from fictra.clock import FakeClock
from fictra.emergency import service as emergency
from fictra.emergency.types import ActionEventView
from fictra.incidents import service
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.flows import IncidentsContext
from fictra.incidents.jobs import MAX_JOB_ATTEMPTS, tick_once
from fictra.incidents.models import IncidentJob
from fictra.monitors.base import MonitorOutput
from fictra.monitors.pipeline import AlertPipeline
from fictra.notify.models import Notification

from .helpers import LEAD, audit, emergency_actions, events

Sessions = async_sessionmaker[AsyncSession]
REPO = Path(__file__).resolve().parents[2]


def _finding(monitor: str, condition: str, severity: Severity = Severity.P0) -> Finding:
    return Finding(
        monitor=monitor,
        severity=severity,
        summary=f"{monitor}: {condition}",
        labels={"condition": condition},
    )


class Rig:
    def __init__(self, sessions: Sessions, clock: FakeClock, config: IncidentsConfig | None = None) -> None:
        self.sessions = sessions
        self.ctx = IncidentsContext(
            config=config or IncidentsConfig(),
            clock=clock,
            console_url="http://c.test",
            actions=emergency_actions(),
        )
        self.alerts = AlertPipeline(monitors=[], clock=clock, on_changes=self.ctx.on_changes)

    async def fire(self, *findings: Finding) -> list[int]:
        async with self.sessions.begin() as session:
            changes = await self.alerts.ingest(
                session, MonitorOutput(findings=list(findings)), network="devnet", head=None
            )
        return [c.alert_id for c in changes]


async def test_p0_declares_joins_and_splits_by_category_and_window(
    sessions: Sessions, clock: FakeClock
) -> None:
    rig = Rig(sessions, clock)
    [paused] = await rig.fire(_finding("contract-status", "paused"))
    async with sessions() as s:
        [incident] = await service.list_incidents(s)
        view = await service.get_incident(s, incident.id)
        outbox = (await s.execute(select(Notification).order_by(Notification.id))).scalars().all()
        jobs = (await s.execute(select(IncidentJob))).scalars().all()
    assert view.source == "auto" and view.category == "smart_contract" and view.severity == "P0"
    assert view.alert_ids == [paused] and view.declared_by == "system"
    assert view.title == "contract-status: paused"
    assert view.output("initial_notification").status == "done"
    assert [(n.receiver, n.message["fields"]["group"]) for n in outbox] == [
        ("ops-log", "technical_team"),
        ("ops-log", "business_team"),
    ]
    assert outbox[0].message["link"] == f"http://c.test/incidents/{view.id}"
    assert [(j.kind, j.params) for j in jobs] == [
        ("evidence", {"alert_ids": [paused], "trigger": "declaration"})
    ]

    clock.advance(600)
    [breach] = await rig.fire(_finding("contract-status", "reserve_breach"))
    [p1] = await rig.fire(_finding("contract-status", "code_changed", Severity.P1))
    [oracle] = await rig.fire(_finding("commodity-oracles", "stale"))
    grant = {"condition": "unauthorized_role_grant", "contract": "PaymentToken"}
    [grant_a] = await rig.fire(
        Finding("contract-status", Severity.P0, "grant a", {**grant, "account": "0xa"})
    )
    [grant_b] = await rig.fire(
        Finding("contract-status", Severity.P0, "grant b", {**grant, "account": "0xb"})
    )
    async with sessions() as s:
        incidents = await service.list_incidents(s)
        first = await service.get_incident(s, view.id)
        assert await service.incident_for_alert(s, p1) is None
        assert await service.incident_for_alert(s, oracle) != view.id
        # a reserve drain while the pause's incident (same category) is open: its own incident
        drain = await service.incident_for_alert(s, breach)
        assert drain not in (None, view.id)
        # the same contract and condition (another account): the same root cause, joined with the rule
        granted = await service.incident_for_alert(s, grant_a)
        assert granted is not None and await service.incident_for_alert(s, grant_b) == granted
    assert first.alert_ids == [paused]
    assert sorted(i.category for i in incidents) == ["oracle", "security", "smart_contract", "smart_contract"]
    notes = [d for k, d in await events(sessions, granted) if k == "note"]
    assert any(
        "same monitor and condition: contract-status (PaymentToken, unauthorized_role_grant)" in str(d)
        for d in notes
    ), notes
    clock.advance(3700)
    [late] = await rig.fire(Finding("contract-status", Severity.P0, "grant c", {**grant, "account": "0xc"}))
    async with sessions() as s:
        assert len(await service.list_incidents(s)) == 5  # same root cause, outside the window: a new one
        assert await service.incident_for_alert(s, late) not in (None, granted)


async def test_an_explicit_correlation_rule_joins_different_conditions(
    sessions: Sessions, clock: FakeClock
) -> None:
    config = IncidentsConfig.model_validate(
        {
            "auto_declare": {
                "correlations": [
                    {
                        "name": "containment-effects",
                        "alerts": [
                            {"monitor": "contract-status", "labels": {"condition": "paused"}},
                            {"monitor": "contract-status", "labels": {"condition": "trading_halted"}},
                        ],
                    }
                ]
            }
        }
    )
    rig = Rig(sessions, clock, config)
    [paused] = await rig.fire(_finding("contract-status", "paused"))
    [halted] = await rig.fire(_finding("contract-status", "trading_halted"))
    [breach] = await rig.fire(_finding("contract-status", "reserve_breach"))
    async with sessions() as s:
        incident = await service.incident_for_alert(s, paused)
        assert incident is not None and await service.incident_for_alert(s, halted) == incident
        assert await service.incident_for_alert(s, breach) not in (None, incident)
    notes = [d for k, d in await events(sessions, incident) if k == "note"]
    assert any("correlation rule 'containment-effects'" in str(d) for d in notes), notes


async def test_refire_of_a_handled_alert_and_disabled_policy(sessions: Sessions, clock: FakeClock) -> None:
    rig = Rig(sessions, clock)
    f = _finding("contract-status", "paused")
    await rig.fire(f)
    from fictra.alerting.findings import Clear

    async with sessions.begin() as session:
        await rig.alerts.ingest(
            session,
            MonitorOutput(clears=[Clear(f.monitor, f.labels, f.network)]),
            network="devnet",
            head=None,
        )
    await rig.fire(f)  # refired while its incident is open
    async with sessions() as s:
        assert len(await service.list_incidents(s)) == 1
    off = Rig(sessions, clock, IncidentsConfig.model_validate({"auto_declare": {"enabled": False}}))
    await off.fire(_finding("contract-status", "other"))
    async with sessions() as s:
        assert len(await service.list_incidents(s)) == 1


async def test_a_failing_declaration_never_fails_the_alert_transaction(
    sessions: Sessions, clock: FakeClock
) -> None:
    cfg = IncidentsConfig.model_validate({"auto_declare": {"notify_groups": ["regulators"]}})
    rig = Rig(sessions, clock, cfg)

    async def broken(*_: Any, **__: Any) -> None:
        from fictra.errors import UsageError

        raise UsageError("boom")

    rig.ctx._queue_evidence = broken  # type: ignore[method-assign]
    [alert_id] = await rig.fire(_finding("contract-status", "paused"))
    async with sessions() as s:
        assert await service.list_incidents(s) == []  # rolled back to the savepoint
        from fictra.alerting.models import Alert

        assert (await s.get(Alert, alert_id)) is not None  # the alert itself is stored


async def test_tick_retries_evidence_then_gives_up_and_reminds(sessions: Sessions, clock: FakeClock) -> None:
    rig = Rig(sessions, clock)  # no pool/manifest: evidence cannot be collected
    await rig.fire(_finding("contract-status", "paused"))
    for attempt in range(1, MAX_JOB_ATTEMPTS + 1):
        assert (await tick_once(sessions=sessions, ctx=rig.ctx))["jobs"] == 1
        async with sessions() as s:
            [job] = (await s.execute(select(IncidentJob))).scalars().all()
        assert job.attempts == attempt and "no RPC pool" in (job.error or "")
    assert job.done_at is not None
    assert (await tick_once(sessions=sessions, ctx=rig.ctx))["jobs"] == 0
    texts = [t for k, t in await events(sessions, job.incident_id) if k == "evidence"]
    assert texts == [
        f"Evidence collection gave up after {MAX_JOB_ATTEMPTS} attempts: "
        "no RPC pool and manifest to collect evidence with"
    ]
    clock.advance(31 * 60)
    assert (await tick_once(sessions=sessions, ctx=rig.ctx))["reminded"] == 1


async def test_verified_containment_action_records_containment(sessions: Sessions, clock: FakeClock) -> None:
    rig = Rig(sessions, clock)
    [alert_id] = await rig.fire(_finding("contract-status", "reserve_breach"))
    async with sessions.begin() as s:
        iid = await service.incident_for_alert(s, alert_id)
        assert iid is not None
        action = await emergency.propose(
            s, kind="pause_all", params={}, actor=LEAD, clock=clock, incident_id=iid
        )
        event = ActionEventView(
            id=1,
            action_id=action.id,
            at=clock.now(),
            kind="verified",
            actor="runner",
            text="every target reports paused()",
            details={},
        )
        await rig.ctx.on_action_event(s, event.model_copy(update={"kind": "confirmed"}))  # ignored
        assert (await service.get_incident(s, iid)).output("containment").status == "missing"
        await rig.ctx.on_action_event(s, event)
        view = await service.get_incident(s, iid)
    containment = view.output("containment")
    assert containment.status == "done" and containment.source == f"action:{action.id}"
    assert "every target reports paused()" in (containment.text or "")
    async with sessions() as s:
        subjects = [n.message["subject"] for n in (await s.execute(select(Notification))).scalars()]
    assert sum(1 for x in subjects if "update" in x) == 2  # status update to both groups
    assert any(
        e["after"].get("containment", {}).get("source") == f"action:{action.id}"
        for e in await audit(sessions, "incident.output")
    )


def _oncall_config(roles: dict[str, str], person: str) -> IncidentsConfig:
    from fictra.response.config import OncallConfig

    oncall = OncallConfig.model_validate(
        {
            "people": {person: {"roles": ["technical_lead"]}},
            "schedules": [
                {
                    "name": "first-line",
                    "rotations": [
                        {
                            "name": "weekly",
                            "people": [person],
                            "start": "2025-12-29T09:00:00+00:00",
                            "shift": "7d",
                        }
                    ],
                }
            ],
        }
    )
    cfg = IncidentsConfig.model_validate({"auto_declare": {"roles": roles}})
    return cfg.with_directory({"ops-log": ["log"]}, {person: "ops-log"}, oncall)


async def test_on_call_person_takes_the_configured_roles(sessions: Sessions, clock: FakeClock) -> None:
    from .helpers import add_users

    await add_users(sessions, clock, "alice")
    rig = Rig(
        sessions, clock, _oncall_config({"commander": "first-line", "responder": "first-line"}, "alice")
    )
    [alert_id] = await rig.fire(_finding("contract-status", "paused"))
    async with sessions() as s:
        iid = await service.incident_for_alert(s, alert_id)
        assert iid is not None
        view = await service.get_incident(s, iid)
    assert view.commander == "alice" and view.responders == ["alice"]
    assert (
        view.output("team_activation").status == "done" and view.output("team_activation").source == "roles"
    )


async def test_on_call_person_who_is_no_user_is_named_on_the_timeline(
    sessions: Sessions, clock: FakeClock
) -> None:
    rig = Rig(sessions, clock, _oncall_config({"commander": "first-line"}, "bob"))
    [alert_id] = await rig.fire(_finding("contract-status", "paused"))
    async with sessions() as s:
        iid = await service.incident_for_alert(s, alert_id)
        assert iid is not None
        assert (await service.get_incident(s, iid)).commander is None
    texts = [t for k, t in await events(sessions, iid) if k == "role"]
    assert texts == [
        "No commander from on-call schedule 'first-line': on call now bob, none of them a user; "
        "assign the role by hand"
    ]
