"""The alert-to-confirmed histogram: one per registry, shared by every runner built on it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from fictra.emergency.runner import RunnerMetrics


def test_two_runners_on_one_registry_share_the_histogram() -> None:
    registry = CollectorRegistry()
    first, second = RunnerMetrics(registry), RunnerMetrics(registry)
    first.alert_to_confirmed.labels("pause_all").observe(4.0)
    second.alert_to_confirmed.labels("pause_all").observe(6.0)
    labels = {"kind": "pause_all"}
    assert registry.get_sample_value("fictra_action_alert_to_confirmed_seconds_count", labels) == 2
    assert registry.get_sample_value("fictra_action_alert_to_confirmed_seconds_sum", labels) == 10.0
    assert (
        registry.get_sample_value("fictra_action_alert_to_confirmed_seconds_bucket", {**labels, "le": "5.0"})
        == 1
    )
