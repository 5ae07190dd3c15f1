"""The two records every incident change writes, in the caller's transaction: an entry on the
incident's own timeline (``incident_events``) and its audit entry (target ``incident:<id>``).

Every other incident module writes through these two functions, so a change and its record commit
together or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import actor_name, record
from fictra.clock import Clock
from fictra.incidents.models import Incident, IncidentEvent

__all__ = ["SYSTEM", "audit_change", "log_event", "snapshot"]

SYSTEM = "system"  # the actor of what the platform does by itself (auto-declare, jobs, action events)


async def log_event(
    session: AsyncSession,
    *,
    incident_id: int,
    kind: str,
    actor: object,
    text: str,
    clock: Clock,
    ref: str | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Put one entry on the incident's own timeline (the other incident modules call this too)."""
    await session.execute(
        insert(IncidentEvent),
        [
            {
                "incident_id": incident_id,
                "at": at or clock.now(),
                "kind": kind,
                "actor": actor_name(actor),
                "text": text,
                "ref": ref,
                "details": details or {},
            }
        ],
    )


async def audit_change(
    session: AsyncSession,
    *,
    actor: object,
    action: str,
    incident_id: int,
    clock: Clock,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """The audit entry of an incident change (target ``incident:<id>``), in the caller's transaction."""
    await record(
        session,
        actor=actor,
        action=action,
        target=f"incident:{incident_id}",
        before=before,
        after=after,
        reason=reason,
        clock=clock,
    )


def snapshot(incident: Incident) -> dict[str, Any]:
    """The incident's classification, phase and roles as audited before/after a change."""
    return {
        "title": incident.title,
        "severity": incident.severity,
        "category": incident.category,
        "phase": incident.phase,
        "status": incident.status,
        "commander": incident.commander,
        "scribe": incident.scribe,
        "liaison": incident.liaison,
        "responders": list(incident.responders or []),
    }
