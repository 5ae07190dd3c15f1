"""The daily backup as a job the platform registers (``platform/jobs.py:platform_jobs``)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from fictra.backup.create import DEFAULT_KEEP, create_backup
from fictra.jobs import Job, JobContext

log = logging.getLogger(__name__)


def backup_job(
    *,
    database_url: str,
    out: Path,
    keep: int = DEFAULT_KEEP,
    cron: str = "30 2 * * *",
    tz: str = "UTC",
    name: str = "backup.daily",
) -> Job:
    """A cron job (daily at 02:30 by default) that backs ``database_url`` up into ``out`` and keeps the
    ``keep`` newest backups. A failure fails the run (the scheduler records it)."""

    async def run(ctx: JobContext) -> None:
        made = await create_backup(
            database_url=database_url, out=out, clock=ctx.clock, keep=keep, actor="job"
        )
        log.info(
            "backup %s made (sha256 %s…), %d old removed",
            made.backup.name,
            made.data.sha256[:16],
            len(made.removed),
        )

    return Job(name=name, cron=cron, tz=tz, run=run, lease=timedelta(minutes=30))
