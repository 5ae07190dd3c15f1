"""Incidents reacting to the rest of the platform: auto-declare from alert changes, and the emergency
runner's action events.

:class:`IncidentsContext` is built by the caller that assembles the platform (config section, clock,
RPC pool, manifest, console URL and an :class:`~fictra.incidents.linked_actions.ActionLedger`), then:

* :meth:`IncidentsContext.on_changes` is a stage after the alert store. Every new alert of the
  configured severities (default P0) declares an incident — category from the alert's monitor and
  labels — unless it has the same root cause as an open auto-declared incident declared within the window
  (an alert there of the same monitor, contract/feed and condition, or a ``correlations`` rule of the
  config matching both), which it joins with a timeline note naming the rule;
  an alert that is the expected effect of the platform's own emergency action joins that action's
  incident instead. It runs in the follower's transaction, so it only writes rows: the incident, the
  initial stakeholder notification (outbox) and an evidence *job* (drained by
  :func:`fictra.incidents.jobs.run_evidence_jobs`).
* :meth:`IncidentsContext.on_action_event` is the emergency runner's ``on_event`` callback: a verified
  containment action linked to an open incident records the containment output and tells the
  stakeholders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert, Confirmation, EventKind
from fictra.alerting.values import AlertChange
from fictra.chain.manifest import Manifest
from fictra.chain.pool import RpcPool
from fictra.clock import Clock
from fictra.errors import FictraError
from fictra.incidents import communications, roles, service
from fictra.incidents.config import IncidentsConfig
from fictra.incidents.events import SYSTEM, log_event
from fictra.incidents.linked_actions import NO_ACTIONS, ActionEventLike, ActionLedger
from fictra.incidents.models import Incident, IncidentAlert, IncidentJob
from fictra.incidents.outputs import record_output
from fictra.incidents.queries import incident_for_alert
from fictra.incidents.records import OPEN

__all__ = ["IncidentsContext", "root_key"]

log = logging.getLogger(__name__)
_NEW = (EventKind.FIRED, EventKind.REFIRED)


def root_key(monitor: str, labels: dict[str, str]) -> tuple[str, str, str]:
    """What makes two alerts the same root cause without a rule: monitor, contract (or feed), condition."""
    return monitor, labels.get("contract") or labels.get("feed") or "", labels.get("condition", "")


@dataclass
class IncidentsContext:
    """What the incident flows and jobs need, built once by the caller (also read by the API)."""

    config: IncidentsConfig
    clock: Clock
    console_url: str | None = None
    pool: RpcPool | None = None
    manifest: Manifest | None = None
    actions: ActionLedger = NO_ACTIONS
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
        existing = await incident_for_alert(session, alert_id)
        if existing is not None:
            incident = await session.get(Incident, existing)
            if incident is not None and incident.status == OPEN:
                return  # a refire of an alert already being handled
        alert = await session.get(Alert, alert_id)
        if alert is None:
            return
        now = self.clock.now()
        cause = await self.actions.caused_by(
            session,
            tx_hashes=[h for h in alert.tx_hashes or [] if h],
            condition=str((alert.labels or {}).get("condition", "")) or None,
            now=now,
        )
        if cause is not None:  # the expected effect of our own emergency action: no new incident
            action_id, incident_id = cause
            await self._join_action_incident(session, alert, action_id, incident_id)
            return
        rules = self.config.auto_declare
        category = rules.category_of(alert.monitor, dict(alert.labels or {}))
        joined = await self._same_root_cause(session, alert, now)
        if joined is not None:
            open_one, reason = joined
            await service.link_alerts(
                session, incident_id=open_one, alert_ids=[alert_id], actor=SYSTEM, clock=self.clock
            )
            await log_event(
                session,
                incident_id=open_one,
                kind="note",
                actor=SYSTEM,
                clock=self.clock,
                text=f"Alert {alert_id} ({alert.monitor}: {alert.summary[:200]}) joined this incident: "
                f"same root cause ({reason})",
                details={"alert_id": alert_id, "correlation": reason},
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
        await roles.fill_from_oncall(session, incident_id=view.id, config=self.config, clock=self.clock)
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

    async def _same_root_cause(
        self, session: AsyncSession, alert: Alert, now: datetime
    ) -> tuple[int, str] | None:
        """The open auto-declared incident (declared within the window, newest first) that this alert shares a
        root cause with, and the rule that says so: an alert there of the same monitor, contract (or feed)
        and condition, or an explicit correlation rule matching both alerts. None: a new incident."""
        rules = self.config.auto_declare
        labels = dict(alert.labels or {})
        rows = (
            await session.execute(
                select(Incident.id, Alert.monitor, Alert.labels)
                .join(IncidentAlert, IncidentAlert.incident_id == Incident.id)
                .join(Alert, Alert.id == IncidentAlert.alert_id)
                .where(
                    Incident.status == OPEN,
                    Incident.source == "auto",
                    Incident.declared_at >= now - rules.window,
                    Alert.id != alert.id,
                )
                .order_by(Incident.declared_at.desc(), Incident.id.desc())
            )
        ).all()
        mine = root_key(alert.monitor, labels)
        for incident_id, monitor, other_labels in rows:
            other = dict(other_labels or {})
            if root_key(monitor, other) == mine:
                what = ", ".join(v for v in mine[1:] if v)
                return incident_id, f"same monitor and condition: {monitor}" + (f" ({what})" if what else "")
            for rule in rules.correlations:
                if rule.matches(alert.monitor, labels) and rule.matches(monitor, other):
                    return incident_id, f"correlation rule '{rule.name}'"
        return None

    async def _join_action_incident(
        self, session: AsyncSession, alert: Alert, action_id: int, incident_id: int | None
    ) -> None:
        incident = await session.get(Incident, incident_id) if incident_id is not None else None
        if incident is None or incident.status != OPEN:
            log.info(
                "alert %s (%s) is the effect of emergency action %s: no incident declared",
                alert.id, alert.monitor, action_id,
            )  # fmt: skip
            return
        await service.link_alerts(
            session, incident_id=incident.id, alert_ids=[alert.id], actor=SYSTEM, clock=self.clock
        )
        await log_event(
            session,
            incident_id=incident.id,
            kind="note",
            actor=SYSTEM,
            clock=self.clock,
            text=f"Alert {alert.id} ({alert.monitor}: {alert.summary[:200]}) is the expected effect of "
            f"emergency action #{action_id}; linked here instead of declaring a new incident",
            details={"alert_id": alert.id, "action_id": action_id},
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

    async def on_action_event(self, session: AsyncSession, event: ActionEventLike) -> None:
        """The emergency runner's ``on_event``: a verified containment action linked to an open incident
        records the containment output (source ``action:<id>``) and sends a status update."""
        if event.kind != "verified":
            return
        action = await self.actions.brief(session, action_id=event.action_id)
        if action is None or action.incident_id is None:
            return
        incident = await session.get(Incident, action.incident_id)
        if not action.containment or incident is None or incident.status != OPEN:
            return
        text = f"{action.title} (action #{action.id}) executed and verified on chain: {event.text}"
        await record_output(
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
