"""Inbound conversion without a server: Alertmanager's fingerprint, severity mapping by config."""

from __future__ import annotations

from typing import Any

from fictra.notify.config import InboundConfig
from fictra.notify.inbound import AlertmanagerPayload, from_alertmanager, label_set_fingerprint


def test_fingerprint_is_alertmanagers() -> None:
    """The values of prometheus/common's model tests (TestMetricToFingerprint)."""
    assert int(label_set_fingerprint({}), 16) == 14695981039346656037
    labels = {"name": "garland, briggs", "fear": "love is not enough"}
    assert int(label_set_fingerprint(labels), 16) == 5799056148416392346
    assert label_set_fingerprint(labels) == f"{5799056148416392346:016x}"


def _payload(*alerts: dict[str, Any]) -> AlertmanagerPayload:
    return AlertmanagerPayload.model_validate({"version": "3", "status": "firing", "alerts": list(alerts)})


def test_severity_is_a_label_kept_verbatim_and_mapped_by_config() -> None:
    config = InboundConfig(severity_map={"SEV1": "P0", "sev2": "P1"}, default_severity="P3")
    a = {
        "status": "firing",
        "labels": {"alertname": "X", "severity": "Sev1"},
        "startsAt": "2026-01-01T00:00:00Z",
    }
    b = {
        "status": "firing",
        "labels": {"alertname": "X", "severity": "sev9"},
        "startsAt": "2026-01-01T00:00:00Z",
    }
    findings, clears = from_alertmanager(_payload(a, b), config)
    assert clears == []
    assert [(f.severity.value, f.labels["severity"]) for f in findings] == [("P0", "Sev1"), ("P3", "sev9")]
    assert findings[0].fingerprint != findings[1].fingerprint  # differ only in severity: distinct
    assert findings[0].occurrence_key == "2026-01-01T00:00:00+00:00"
    resolved = {**a, "status": "resolved"}
    _, [clear] = from_alertmanager(_payload(resolved), config)
    assert clear.fingerprint == findings[0].fingerprint  # resolves exactly that alert
