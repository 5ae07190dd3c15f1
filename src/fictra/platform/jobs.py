"""The platform's periodic work as named jobs on the one scheduler (``fictra.jobs``): each due time runs
exactly once across every process sharing the database.

    monitor:<name>          each polled monitor on its interval (node health, access attempts, ...)
    response.tick           SLA clocks, escalation, snooze expiry, group flushes
    incidents.evidence      evidence collection queued by auto-declare
    incidents.reminders     overdue stakeholder updates
    notify.outbox           deliver due notifications (drains the outbox)
    audit.checkpoint        a signed checkpoint of the audit log when entries were added
    procedures.<name>       each routine procedure on its schedule (procedures.yaml), procedures.graces
    backup.daily            a verified-format backup of the database (02:30 UTC), 14 kept
    support.sla             tickets' first-response and resolution deadlines
    maintenance.tick        windows: holds, releases, stakeholder notices, overrun and forgotten reminders
    proposals.verify        the implementation review of executed, simulated governance proposals
    reserve.por_publish     the proof-of-reserve feed update when the reserve value moved (reserve.yaml)
    jobs.prune              run records past their retention

Future domains (reports, compliance filings) add their jobs to :func:`platform_jobs`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from fictra.audit.checkpoints import DEFAULT_EVERY_S
from fictra.audit.jobs import checkpoint_job
from fictra.backup.jobs import backup_job
from fictra.incidents.jobs import incident_jobs
from fictra.jobs import Job, JobContext
from fictra.jobs.store import prune_runs
from fictra.maintenance.jobs import maintenance_jobs
from fictra.monitors.base import PolledMonitor
from fictra.notify.worker import Outbox
from fictra.procedures.jobs import procedure_jobs
from fictra.proposals.jobs import proposal_jobs
from fictra.reserve.publish import publisher_job
from fictra.response.context import ResponseContext
from fictra.response.scheduled import tick
from fictra.support.jobs import support_jobs

if TYPE_CHECKING:
    from fictra.platform.assemble import Platform

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Timings:
    """Intervals of the platform's jobs (tests shorten them; the incidents jobs take theirs from
    incidents.yaml ``tick_interval``)."""

    response_tick: timedelta = timedelta(seconds=5)
    audit_checkpoint: timedelta = timedelta(seconds=DEFAULT_EVERY_S)
    outbox: timedelta | None = None  # default: receivers.yaml delivery.poll_interval
    incidents_tick: timedelta | None = None  # default: incidents.yaml tick_interval
    run_retention: timedelta = timedelta(days=7)
    prune: timedelta = timedelta(hours=1)


def platform_jobs(platform: Platform, *, timings: Timings) -> list[Job]:
    """Every periodic job of ``platform`` (only those of the domains it was assembled with)."""
    jobs = [_poll_job(platform, monitor) for monitor in platform.polled_monitors]
    if platform.response is not None:
        jobs.append(_response_job(platform.response, timings.response_tick))
    if platform.incidents is not None:
        for job in incident_jobs(platform.incidents):
            jobs.append(replace(job, every=timings.incidents_tick) if timings.incidents_tick else job)
    if platform.outbox is not None:
        jobs.append(_outbox_job(platform.outbox, timings.outbox or platform.outbox.policy.poll_interval))
    if platform.audit_signer is not None:
        jobs.append(checkpoint_job(platform.audit_signer, every=timings.audit_checkpoint))
    if platform.procedures is not None:
        jobs.extend(procedure_jobs(platform.procedures))
    if platform.support is not None:
        jobs.extend(support_jobs(platform.support))
    if platform.maintenance is not None:
        jobs.extend(maintenance_jobs(platform.maintenance))
    if platform.proposals is not None:
        jobs.extend(proposal_jobs(platform.proposals))
    if platform.reserve is not None and platform.reserve.publisher is not None:
        jobs.append(publisher_job(platform.reserve.publisher))
    if platform.backups:
        jobs.append(
            backup_job(
                database_url=platform.settings.resolved_database_url(),
                out=platform.settings.data_dir / "backups",
            )
        )
    jobs.append(_prune_job(timings))
    return jobs


def _poll_job(platform: Platform, monitor: PolledMonitor) -> Job:
    """A polled monitor's round goes through the same alert pipeline (and stages) as a block."""

    async def poll(job: JobContext) -> None:
        async with job.sessions.begin() as session:
            output = await monitor.poll(session)
            head = platform.pool.best_head or None
            await platform.pipeline.ingest(session, output, network=platform.network, head=head)

    return Job(name=f"monitor:{monitor.name}", every=monitor.interval, run=poll)


def _response_job(ctx: ResponseContext, every: timedelta) -> Job:
    async def run(job: JobContext) -> None:
        async with job.sessions.begin() as session:
            result = await tick(session, ctx)
        if result.escalated or result.ack_breaches or result.resolve_breaches:
            log.info(
                "escalation tick: escalated %s, ack breaches %s, resolve breaches %s",
                result.escalated,
                result.ack_breaches,
                result.resolve_breaches,
            )

    return Job(name="response.tick", every=every, run=run)


def _outbox_job(outbox: Outbox, every: timedelta) -> Job:
    async def run(job: JobContext) -> None:
        while await outbox.run_once() >= outbox.claim_size:  # drain: a full claim means more are due
            pass

    return Job(name="notify.outbox", every=every, run=run)


def _prune_job(timings: Timings) -> Job:
    async def run(job: JobContext) -> None:
        async with job.sessions.begin() as session:
            removed = await prune_runs(session, before=job.now - timings.run_retention)
        if removed:
            log.info("jobs: pruned %d run records older than %s", removed, timings.run_retention)

    return Job(name="jobs.prune", every=timings.prune, run=run)
