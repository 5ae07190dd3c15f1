"""Job metrics, registered in the platform's registry (exposed at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class JobMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs = Counter(
            "fictra_job_runs",
            "Job runs by this process, by job and outcome (ok, failed).",
            ["job", "outcome"],
            registry=registry,
        )
        self.duration_seconds = Histogram(
            "fictra_job_duration_seconds",
            "Duration of job runs.",
            ["job"],
            buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300),
            registry=registry,
        )
        self.last_success = Gauge(
            "fictra_job_last_success_timestamp_seconds",
            "Unix time of the last successful run finished by this process.",
            ["job"],
            registry=registry,
        )
