"""The other domains' lines for the daily operations meeting's agenda (the procedures' operations_agenda
check): open incidents, SLA breaches of the last 24 h, changes planned today, tickets over SLA. The
procedures domain imports none of them; :func:`agenda_sources` is passed in by the assembly."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.changes.models import ChangeRequest
from fictra.incidents.models import Incident
from fictra.procedures.checks import AgendaFn
from fictra.response.models import SlaBreach
from fictra.support.queries import agenda_items as tickets_over_sla

DAY = timedelta(hours=24)


async def open_incidents(session: AsyncSession, now: datetime) -> list[str]:
    rows = (
        await session.execute(
            select(Incident.id, Incident.severity, Incident.phase, Incident.title)
            .where(Incident.status == "open")
            .order_by(Incident.severity, Incident.id)
        )
    ).all()
    return [f"incident #{i} {sev} open in {phase}: {title}" for i, sev, phase, title in rows]


async def sla_breaches(session: AsyncSession, now: datetime) -> list[str]:
    rows = (
        await session.execute(
            select(SlaBreach.severity, SlaBreach.kind, func.count())
            .where(SlaBreach.breached_at >= now - DAY)
            .group_by(SlaBreach.severity, SlaBreach.kind)
            .order_by(SlaBreach.severity, SlaBreach.kind)
        )
    ).all()
    return [f"SLA breaches in 24 h: {n} {sev} {kind}" for sev, kind, n in rows]


async def changes_today(session: AsyncSession, now: datetime) -> list[str]:
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    rows = (
        await session.execute(
            select(ChangeRequest.id, ChangeRequest.state, ChangeRequest.planned_start, ChangeRequest.title)
            .where(ChangeRequest.planned_start >= start, ChangeRequest.planned_start < start + DAY)
            .order_by(ChangeRequest.planned_start)
        )
    ).all()
    return [f"change #{i} [{state}] at {at:%H:%M} UTC: {title}" for i, state, at, title in rows]


def agenda_sources() -> tuple[AgendaFn, ...]:
    return (open_incidents, sla_breaches, changes_today, tickets_over_sla)
