"""Named periodic jobs: interval or cron schedules, an injected clock, run records and leases in the
database so that exactly one process runs each due time. See ``docs/jobs.md``.

    scheduler = Scheduler(sessions=sessions, clock=clock)
    scheduler.register(Job(name="audit.checkpoint", every=timedelta(minutes=5), run=checkpoint))
    scheduler.register(Job(name="reports.daily", cron="0 6 * * *", tz="Europe/Zurich", run=daily))
    await scheduler.run(stop)
"""

from fictra.jobs.context import JobContext
from fictra.jobs.metrics import JobMetrics
from fictra.jobs.models import JobLease, JobRun, Outcome
from fictra.jobs.schedule import Job, JobFn
from fictra.jobs.scheduler import RunResult, Scheduler, new_holder
from fictra.jobs.store import recent_runs

__all__ = [
    "Job",
    "JobContext",
    "JobFn",
    "JobLease",
    "JobMetrics",
    "JobRun",
    "Outcome",
    "RunResult",
    "Scheduler",
    "new_holder",
    "recent_runs",
]
