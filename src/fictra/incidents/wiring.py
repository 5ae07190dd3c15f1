"""Plug incident management into an assembled platform.

* Auto-declare: a hook on the alert store's changes (chained after any existing ``on_changes``, like
  :mod:`fictra.response.wiring`). Every new alert of the configured severities (default P0) declares an
  incident — category from the alert's monitor and labels — or joins the open auto-declared incident of
  the same category declared within the window. It runs in the follower's transaction, so it only writes
  rows: the incident, the initial stakeholder notification (outbox) and an evidence *job*.
* The tick task drains evidence jobs (RPC calls, off the follower's transaction) and reminds the
  communications liaison of overdue status updates.
* :meth:`IncidentsContext.on_action_event` is the emergency runner's ``on_event`` callback: a verified
  containment action linked to an incident records the containment output and tells the stakeholders.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fictra.alerting.models import Alert, Confirmation, EventKind
from fictra.alerting.values import AlertChange
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import Clock, wait_or_stop
from fictra.errors import FictraError
from fictra.incidents import communications, evidence, service
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.models import Incident, IncidentJob

if TYPE_CHECKING:
    from fictra.emergency.types import ActionEventView
    from fictra.platform.assemble import Platform

__all__ = ["IncidentsContext", "attach", "tick"]

log = logging.getLogger(__name__)
Task = Callable[[asyncio.Event], Awaitable[None]]
SYSTEM = "system"
MAX_JOB_ATTEMPTS = 3
_NEW = (EventKind.FIRED, EventKind.REFIRED)


@dataclass
class IncidentsContext:
    """What the incident hooks and the tick need; also read by the API (``platform.incidents``)."""

    config: IncidentsConfig
    clock: Clock
    console_url: str | None = None
    pool: RpcPool | None = None
    manifest: Manifest | None = None
    declared: list[int] = field(default_factory=list)  # incidents declared by policy (for the live view)

    async def on_changes(self, changes: list[AlertChange], session: AsyncSession) -> None:
        """Auto-declare from the alert store's changes, in the caller's transaction."""
        rules = self.config.auto_declare
        if not rules.enabled:
            return
        for change in changes:
            if change.kind not in _NEW or change.severity.value not in rules.severities:
                continue
            if change.confirmation == Confirmation.RETRACTED:
                continue
            try:
                # a savepoint: a refusal here must never fail the follower's transaction (its alerts)
                async with session.begin_nested():
                    await self._declare_or_join(session, change.alert_id)
            except FictraError as exc:
                log.warning("auto-declare for alert %s failed: %s", change.alert_id, exc.user_message)

    async def _declare_or_join(self, session: AsyncSession, alert_id: int) -> None:
        existing = await service.incident_for_alert(session, alert_id)
        if existing is not None:
            incident = await session.get(Incident, existing)
            if incident is not None and incident.status == service.OPEN:
                return  # a refire of an alert already being handled
        alert = await session.get(Alert, alert_id)
        if alert is None:
            return
        cause = await _caused_by_action(session, alert, now=self.clock.now())
        if cause is not None:  # the expected effect of our own emergency action: no new incident
            action_id, incident_id = cause
            await self._join_action_incident(session, alert, action_id, incident_id)
            return
        rules = self.config.auto_declare
        category = rules.category_of(alert.monitor, dict(alert.labels or {}))
        now = self.clock.now()
        open_one = (
            await session.execute(
                select(Incident.id)
                .where(
                    Incident.status == service.OPEN,
                    Incident.source == "auto",
                    Incident.category == category,
                    Incident.declared_at >= now - rules.window,
                )
                .order_by(Incident.declared_at.desc(), Incident.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if open_one is not None:
            await service.link_alerts(
                session, incident_id=open_one, alert_ids=[alert_id], actor=SYSTEM, clock=self.clock
            )
            await self._queue_evidence(session, open_one, [alert_id])
            return
        view = await service.declare(
            session,
            title=(alert.summary or f"Alert {alert_id} ({alert.monitor})")[:300],
            severity=alert.severity,
            category=category,
            actor=SYSTEM,
            clock=self.clock,
            alert_ids=[alert_id],
            summary=f"Declared automatically from alert {alert_id} ({alert.monitor}): {alert.summary}",
            source="auto",
            config=self.config,
        )
        self.declared.append(view.id)
        await self._fill_roles(session, view.id)
        await self._queue_evidence(session, view.id, [alert_id])
        if rules.notify_groups:
            await communications.send_update(
                session,
                incident_id=view.id,
                groups=rules.notify_groups,
                template="initial",
                actor=SYSTEM,
                clock=self.clock,
                config=self.config,
                console_url=self.console_url,
                dedupe="declared",
            )

    async def _join_action_incident(
        self, session: AsyncSession, alert: Alert, action_id: int, incident_id: int | None
    ) -> None:
        incident = await session.get(Incident, incident_id) if incident_id is not None else None
        if incident is None or incident.status != service.OPEN:
            log.info(
                "alert %s (%s) is the effect of emergency action %s: no incident declared",
                alert.id, alert.monitor, action_id,
            )  # fmt: skip
            return
        await service.link_alerts(
            session, incident_id=incident.id, alert_ids=[alert.id], actor=SYSTEM, clock=self.clock
        )
        await service.log_event(
            session,
            incident_id=incident.id,
            kind="note",
            actor=SYSTEM,
            clock=self.clock,
            text=f"Alert {alert.id} ({alert.monitor}: {alert.summary[:200]}) is the expected effect of "
            f"emergency action #{action_id}; linked here instead of declaring a new incident",
            details={"alert_id": alert.id, "action_id": action_id},
        )

    async def _fill_roles(self, session: AsyncSession, incident_id: int) -> None:
        """Whoever is on call on the configured schedules takes the incident roles (users only; anyone
        else is named on the timeline for a person to assign by hand)."""
        from fictra.auth.models import User
        from fictra.response.models import OncallOverride
        from fictra.response.oncall import OverrideSpan, on_call

        wanted = self.config.auto_declare.roles
        oncall = self.config.oncall
        if not wanted or oncall is None:
            return
        now = self.clock.now()
        rows = await session.execute(
            select(OncallOverride).where(OncallOverride.starts_at <= now, OncallOverride.ends_at > now)
        )
        spans = [OverrideSpan(o.schedule, o.person, o.starts_at, o.ends_at, o.source) for o in rows.scalars()]
        schedules = {s.name: s for s in oncall.schedules}
        users = {
            u.username
            for u in (await session.execute(select(User).where(User.disabled.is_(False)))).scalars()
        }
        for role, name in wanted.items():
            schedule = schedules.get(name)
            people = [shift.person for shift in on_call(schedule, now, spans)] if schedule else []
            usable = [p for p in people if p in users]
            if not usable:
                await service.log_event(
                    session,
                    incident_id=incident_id,
                    kind="role",
                    actor=SYSTEM,
                    clock=self.clock,
                    text=f"No {role} from on-call schedule '{name}': on call now "
                    f"{', '.join(people) or 'nobody'}, none of them a user; assign the role by hand",
                    details={"role": role, "schedule": name, "on_call": people},
                )
                continue
            for person in usable if role == "responder" else usable[:1]:
                await service.assign_role(
                    session,
                    incident_id=incident_id,
                    role=role,
                    username=person,
                    actor=SYSTEM,
                    clock=self.clock,
                )

    async def _queue_evidence(self, session: AsyncSession, incident_id: int, alert_ids: list[int]) -> None:
        if not self.config.auto_declare.collect_evidence:
            return
        session.add(
            IncidentJob(
                incident_id=incident_id,
                kind="evidence",
                params={"alert_ids": alert_ids, "trigger": "declaration"},
                created_at=self.clock.now(),
                attempts=0,
            )
        )
        await session.flush()

    async def on_action_event(self, session: AsyncSession, event: ActionEventView) -> None:
        """The emergency runner's ``on_event``: a verified containment action linked to an open incident
        records the containment output (source ``action:<id>``) and sends a status update."""
        if event.kind != "verified":
            return
        from fictra.emergency.definitions import definition
        from fictra.emergency.service import get_action

        action = await get_action(session, event.action_id)
        if action.incident_id is None:
            return
        try:
            containment = definition(action.kind).containment
        except FictraError:
            containment = False
        incident = await session.get(Incident, action.incident_id)
        if not containment or incident is None or incident.status != service.OPEN:
            return
        text = f"{action.title} (action #{action.id}) executed and verified on chain: {event.text}"
        await service.record_output(
            session,
            incident_id=incident.id,
            key="containment",
            text=text[:4000],
            actor=SYSTEM,
            clock=self.clock,
            source=f"action:{action.id}",
        )
        groups = self.config.auto_declare.notify_groups
        if groups:
            await communications.send_update(
                session,
                incident_id=incident.id,
                groups=groups,
                template="status",
                actor=SYSTEM,
                clock=self.clock,
                extra={"message": f"Containment: {text}"[:4000]},
                config=self.config,
                console_url=self.console_url,
                dedupe=f"action-{action.id}-verified",
            )


# conditions an emergency action causes on purpose -> the action kinds that cause them
_EFFECTS = {
    "paused": ("pause_all", "emergency_shutdown"),
    "trading_halted": ("halt_trading", "emergency_shutdown"),
}
EFFECT_WINDOW = timedelta(minutes=10)


async def _caused_by_action(
    session: AsyncSession, alert: Alert, *, now: datetime
) -> tuple[int, int | None] | None:
    """(action id, its incident id) when ``alert`` is the effect of one of the platform's own emergency
    actions: it carries the action's transaction hash (an event rule on the Paused log), or it reports a
    condition the action causes (a contract paused, trading halted) while such an action's transaction is
    on its way or landed within the last minutes. Else None."""
    from fictra.emergency.models import ActionTx, EmergencyAction

    hashes = [h.lower() for h in alert.tx_hashes or [] if h]
    if hashes:
        row = (
            await session.execute(
                select(EmergencyAction.id, EmergencyAction.incident_id)
                .join(ActionTx, ActionTx.action_id == EmergencyAction.id)
                .where(func.lower(ActionTx.tx_hash).in_(hashes), ActionTx.status != "failed")
                .limit(1)
            )
        ).first()
        if row is not None:
            return int(row[0]), row[1]
    kinds = _EFFECTS.get(str((alert.labels or {}).get("condition", "")))
    if not kinds:
        return None
    row = (
        await session.execute(
            select(EmergencyAction.id, EmergencyAction.incident_id)
            .join(ActionTx, ActionTx.action_id == EmergencyAction.id)
            .where(
                EmergencyAction.kind.in_(kinds),
                ActionTx.tx_hash.is_not(None),
                ActionTx.status != "failed",
                or_(  # signed, being sent right now, or sent within the window
                    and_(ActionTx.submitted_at.is_(None), ActionTx.status == "signed"),
                    ActionTx.submitted_at >= now - EFFECT_WINDOW,
                ),
            )
            .order_by(ActionTx.id.desc())
            .limit(1)
        )
    ).first()
    return (int(row[0]), row[1]) if row is not None else None


async def _run_job(sessions: async_sessionmaker[AsyncSession], ctx: IncidentsContext, job_id: int) -> None:
    async with sessions() as session:
        job = await session.get(IncidentJob, job_id)
        if job is None or job.done_at is not None:
            return
        params: dict[str, Any] = dict(job.params or {})
        incident_id = job.incident_id
    try:
        if ctx.pool is None or ctx.manifest is None:
            raise FictraError("no RPC pool and manifest to collect evidence with")
        async with sessions.begin() as session:
            await evidence.collect(
                session,
                incident_id=incident_id,
                pool=ctx.pool,
                manifest=ctx.manifest,
                clock=ctx.clock,
                actor=SYSTEM,
                alert_ids=params.get("alert_ids"),
                trigger=str(params.get("trigger", "declaration")),
            )
            await session.execute(
                update(IncidentJob)
                .where(IncidentJob.id == job_id)
                .values(done_at=ctx.clock.now(), error=None)
            )
    except FictraError as exc:
        async with sessions.begin() as session:
            job = await session.get(IncidentJob, job_id)
            if job is None:
                return
            job.attempts += 1
            job.error = exc.user_message[:2000]
            if job.attempts >= MAX_JOB_ATTEMPTS:
                job.done_at = ctx.clock.now()
                await service.log_event(
                    session,
                    incident_id=incident_id,
                    kind="evidence",
                    actor=SYSTEM,
                    clock=ctx.clock,
                    text=f"Evidence collection gave up after {job.attempts} attempts: {job.error}",
                    details={"job_id": job_id, "error": job.error},
                )
        log.warning("incident %s evidence job %s failed: %s", incident_id, job_id, exc.user_message)


async def tick(sessions: async_sessionmaker[AsyncSession], ctx: IncidentsContext) -> dict[str, int]:
    """One round: pending evidence jobs, then overdue-update reminders. Returns what it did."""
    async with sessions() as session:
        jobs = list(
            (
                await session.execute(
                    select(IncidentJob.id)
                    .where(IncidentJob.done_at.is_(None))
                    .order_by(IncidentJob.id)
                    .limit(20)
                )
            ).scalars()
        )
    for job_id in jobs:
        await _run_job(sessions, ctx, job_id)
    async with sessions.begin() as session:
        reminded = await communications.remind_overdue(
            session, config=ctx.config, clock=ctx.clock, console_url=ctx.console_url
        )
    return {"jobs": len(jobs), "reminded": len(reminded)}


async def tick_loop(
    sessions: async_sessionmaker[AsyncSession], ctx: IncidentsContext, stop: asyncio.Event, *, interval: float
) -> None:
    """Run :func:`tick` every ``interval`` seconds until ``stop``; a failed round is logged, not fatal."""
    while True:
        try:
            await tick(sessions, ctx)
        except FictraError as exc:
            log.warning("incident tick failed: %s", exc.user_message)
        if await wait_or_stop(stop, interval, ctx.clock):
            return


def attach(
    platform: Platform,
    *,
    config: IncidentsConfig | None = None,
    console_url: str | None = None,
    interval: float | None = None,
) -> Task:
    """Hook auto-declare after any existing ``on_changes``, expose the context as
    ``platform.incidents`` and return the tick task (evidence jobs, cadence reminders)."""
    config = config or platform.config.incidents
    ctx = IncidentsContext(
        config=config,
        clock=platform.clock,
        console_url=console_url,
        pool=platform.pool,
        manifest=platform.manifest,
    )
    previous = platform.pipeline.on_changes

    async def on_changes(changes: list[AlertChange], session: AsyncSession) -> None:
        if previous is not None:
            await previous(changes, session)
        await ctx.on_changes(changes, session)

    platform.pipeline.on_changes = on_changes
    setattr(platform, "incidents", ctx)  # noqa: B010 - read by fictra.incidents.views
    every = interval if interval is not None else config.tick_interval.total_seconds()
    return lambda stop: tick_loop(platform.sessions, ctx, stop, interval=max(every, 0.01))
