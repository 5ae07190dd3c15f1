"""Outbox metrics, registered in the platform's registry (exposed at /metrics)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class OutboxMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["receiver", "channel", "outcome"]
        self.attempts = Counter(
            "fictra_notification_attempts",
            "Delivery attempts by outcome: delivered, failed (retried later), dead, throttled.",
            labels,
            registry=registry,
        )
        self.send_seconds = Histogram(
            "fictra_notification_send_seconds",
            "Time to deliver one notification (successful sends).",
            ["channel"],
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
