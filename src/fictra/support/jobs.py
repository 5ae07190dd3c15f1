"""Periodic support work: the SLA breach check (every minute), on the injected clock.

:func:`support_jobs` returns the :class:`fictra.jobs.Job` list for the platform's scheduler; the caller
builds :class:`SupportContext`. :func:`check_breaches` marks each deadline that has passed on an active
ticket once (``first_response_breached_at`` / ``resolution_breached_at``), with an audit entry.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.audit.service import record
from fictra.clock import Clock
from fictra.jobs import Job, JobContext
from fictra.support.config import SupportConfig
from fictra.support.models import ACTIVE, Ticket
from fictra.support.service import overdue

__all__ = ["SLA_EVERY", "SupportContext", "check_breaches", "support_jobs"]

log = logging.getLogger(__name__)
SLA_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class SupportContext:
    """What the support jobs (and the intake server) need, built by the caller."""

    config: SupportConfig
    clock: Clock


async def check_breaches(session: AsyncSession, *, clock: Clock) -> list[tuple[int, str]]:
    """Mark every newly breached deadline of an active ticket; returns (ticket id, clock) per new breach."""
    now = clock.now()
    stmt = (
        select(Ticket)
        .where(Ticket.state.in_(ACTIVE))
        .where(
            (
                (Ticket.first_response_breached_at.is_(None))
                & (Ticket.first_responded_at.is_(None))
                & (Ticket.first_response_due <= now)
            )
            | ((Ticket.resolution_breached_at.is_(None)) & (Ticket.resolution_due <= now))
        )
    )
    found: list[tuple[int, str]] = []
    for ticket in (await session.scalars(stmt.order_by(Ticket.id))).all():
        for kind in overdue(ticket, now):
            if kind == "first_response" and ticket.first_response_breached_at is None:
                ticket.first_response_breached_at = now
                deadline = ticket.first_response_due
            elif kind == "resolution" and ticket.resolution_breached_at is None:
                ticket.resolution_breached_at = now
                deadline = ticket.resolution_due
            else:
                continue
            found.append((ticket.id, kind))
            await record(
                session,
                actor="system",
                action="ticket.sla_breach",
                target=f"ticket:{ticket.id}",
                after={"clock": kind, "deadline": deadline.isoformat(), "priority": ticket.priority},
                clock=clock,
            )
    await session.flush()
    return found


def support_jobs(ctx: SupportContext) -> list[Job]:
    """``support.sla`` every minute: breaches marked and audited (the job's own clock is ``ctx.clock``)."""

    async def sla(job: JobContext) -> None:
        async with job.sessions.begin() as session:
            found = await check_breaches(session, clock=ctx.clock)
        for ticket_id, kind in found:
            log.warning("ticket %d breached its %s SLA", ticket_id, kind)

    return [Job(name="support.sla", every=SLA_EVERY, run=sla)]
