"""The emergency actions' Prometheus metric: alert fired → the action's last transaction confirmed."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

__all__ = ["RunnerMetrics"]


class RunnerMetrics:
    NAME = "fictra_action_alert_to_confirmed_seconds"

    def __init__(self, registry: CollectorRegistry | None) -> None:
        existing = getattr(registry, "_names_to_collectors", {}).get(self.NAME) if registry else None
        if isinstance(existing, Histogram):  # a second runner on the same registry shares the histogram
            self.alert_to_confirmed = existing
            return
        self.alert_to_confirmed = Histogram(
            self.NAME,
            "Time from the triggering alert firing to the action's last transaction confirmed.",
            ["kind"],
            buckets=(1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600, 1800),
            registry=registry,
        )
