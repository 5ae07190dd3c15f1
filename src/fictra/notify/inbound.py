"""Inbound alerts: Prometheus Alertmanager's webhook payload (versions 3 and 4) and a generic JSON shape,
turned into Findings/Clears and applied to the alert store.

Alertmanager-faithful: an alert's identity is Alertmanager's own fingerprint of its label set
(:func:`label_set_fingerprint`, the algorithm of prometheus/common ``model.LabelSet.Fingerprint``), so
alerts that differ in any label — severity included — stay distinct, and ``status: resolved`` resolves
exactly that alert. Every label is kept verbatim (the severity label too); the P-level comes from
``receivers.yaml`` ``inbound.severity_map``. Occurrences are counted by ``startsAt``: Alertmanager
re-sends a firing alert every ``repeat_interval`` with the same ``startsAt``, which is one occurrence;
a new ``startsAt`` is a new one. The monitor is ``alertmanager/<alertname>``; evidence is the alert's
annotations plus its start and generator URL; ``network`` is the ``network`` label or
``inbound.network`` ("external").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.config import AlertPolicy
from fictra.alerting.findings import Clear, Finding, Severity
from fictra.alerting.service import AlertChange, apply_findings
from fictra.clock import Clock
from fictra.errors import UsageError
from fictra.notify.config import InboundConfig

DEFAULT_NETWORK = "external"
MAX_ALERTS = 5000
Labels = dict[str, str]
_DEFAULTS = InboundConfig()
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK = 0xFFFFFFFFFFFFFFFF


@lru_cache(maxsize=65536)
def _fingerprint_of(items: tuple[tuple[str, str], ...]) -> str:
    h = _FNV_OFFSET
    for name, value in items:
        for part in (name, value):
            for byte in part.encode():
                h = ((h ^ byte) * _FNV_PRIME) & _MASK
            h = ((h ^ 0xFF) * _FNV_PRIME) & _MASK
    return f"{h:016x}"


def label_set_fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager's fingerprint of a label set as 16 hex digits (what its API and webhook show):
    FNV-1a 64 over the label names in byte order, each name and value followed by the byte 0xff."""
    return _fingerprint_of(tuple(sorted(labels.items())))


class AlertmanagerAlert(BaseModel):
    model_config = ConfigDict(extra="allow")
    status: Literal["firing", "resolved"]
    labels: Labels = Field(default_factory=dict)
    annotations: Labels = Field(default_factory=dict)
    startsAt: datetime | None = None
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = ""


class AlertmanagerPayload(BaseModel):
    """https://prometheus.io/docs/alerting/latest/configuration/#webhook_config (versions "3" and "4")."""

    model_config = ConfigDict(extra="allow")
    version: Literal["3", "4"]
    groupKey: str = ""
    truncatedAlerts: int = 0
    status: Literal["firing", "resolved"]
    receiver: str = ""
    groupLabels: Labels = Field(default_factory=dict)
    commonLabels: Labels = Field(default_factory=dict)
    commonAnnotations: Labels = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[AlertmanagerAlert] = Field(max_length=MAX_ALERTS)


class GenericAlert(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=150, pattern=r"^[A-Za-z0-9_.:/-]+$")
    status: Literal["firing", "resolved"] = "firing"
    severity: str = Field(
        default="P2", min_length=1, max_length=40, description="P0..P3 or a name (critical, warning...)."
    )
    summary: str = Field(default="", max_length=2000)
    labels: Labels = Field(default_factory=dict)
    evidence: dict[str, Any] = Field(default_factory=dict)
    network: str = Field(default=DEFAULT_NETWORK, min_length=1, max_length=64)
    source: str = Field(default="generic", min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")


class GenericPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alerts: list[GenericAlert] = Field(min_length=1, max_length=MAX_ALERTS)


class InboundResult(BaseModel):
    accepted: int = Field(description="Alerts in the payload.")
    fired: int = Field(description="New alerts (or resolved ones firing again).")
    updated: int = Field(description="Repeats of an alert already firing (deduplicated).")
    resolved: int = Field(description="Alerts cleared by status 'resolved'.")
    alert_ids: list[int] = Field(description="Alerts whose state changed.")


def severity_of(labels: Labels, config: InboundConfig = _DEFAULTS) -> Severity:
    """The P-level of an inbound alert from its severity label (mapped by config, case-insensitive)."""
    raw = labels.get(config.severity_label, "").strip().lower()
    return Severity(config.severity_map.get(raw, config.default_severity))


def from_alertmanager(
    payload: AlertmanagerPayload, config: InboundConfig = _DEFAULTS
) -> tuple[list[Finding], list[Clear]]:
    findings: list[Finding] = []
    clears: list[Clear] = []
    for alert in payload.alerts:
        labels = dict(alert.labels)  # Alertmanager's labels are the alert's whole label set
        identity = label_set_fingerprint(labels)
        network = (labels.get("network") or config.network)[:64]
        monitor = f"alertmanager/{labels.get('alertname', 'unnamed')}"[:200]
        if alert.status == "resolved":
            clears.append(Clear(monitor=monitor, labels=labels, network=network, identity=identity))
            continue
        notes = {**payload.commonAnnotations, **alert.annotations}
        summary = (
            notes.get("summary") or notes.get("description") or labels.get("alertname", "Alertmanager alert")
        )
        # flat and small: the store keeps it with the occurrence
        evidence: dict[str, object] = {**notes, "source": "alertmanager", "fingerprint": identity}
        starts = alert.startsAt.isoformat() if alert.startsAt is not None else None
        if starts is not None:
            evidence["starts_at"] = starts
        if alert.generatorURL:
            evidence["generator_url"] = alert.generatorURL
        findings.append(
            Finding(
                monitor=monitor,
                severity=severity_of(labels, config),
                summary=summary[:2000],
                labels=labels,
                network=network,
                evidence=evidence,
                occurrence_key=starts,
                identity=identity,
            )
        )
    return findings, clears


def from_generic(
    payload: GenericPayload, config: InboundConfig = _DEFAULTS
) -> tuple[list[Finding], list[Clear]]:
    """Generic alerts; ``severity`` is P0..P3 or a name of ``inbound.severity_map`` (critical...)."""
    findings: list[Finding] = []
    clears: list[Clear] = []
    for n, alert in enumerate(payload.alerts):
        monitor = f"{alert.source}/{alert.name}"
        if alert.status == "resolved":
            clears.append(Clear(monitor=monitor, labels=alert.labels, network=alert.network))
            continue
        raw = alert.severity.strip()
        mapped = config.severity_map.get(raw.lower())
        if mapped is None:
            allowed = ", ".join(sorted({*config.severity_map, "P0", "P1", "P2", "P3"}))
            raise UsageError(f"alerts[{n}].severity '{raw}' is not one of: {allowed}.")
        findings.append(
            Finding(
                monitor=monitor,
                severity=Severity(mapped),
                summary=alert.summary or alert.name,
                labels=alert.labels,
                network=alert.network,
                evidence={"source": alert.source, "severity": raw, **alert.evidence},
            )
        )
    return findings, clears


OnChanges = Callable[[list[AlertChange], AsyncSession], Awaitable[None]]


async def ingest(
    session: AsyncSession,
    *,
    findings: list[Finding],
    clears: list[Clear],
    clock: Clock,
    policy: AlertPolicy | None = None,
    on_changes: OnChanges | None = None,
) -> InboundResult:
    """Apply to the alert store in the caller's transaction; hand changes to the pipeline's later stages
    (routing, notifications) through ``on_changes``, as the chain's own alerts are."""
    result = await apply_findings(session, findings, clears, head=None, clock=clock, policy=policy)
    if result.changes and on_changes is not None:
        await on_changes(result.changes, session)
    kinds = Counter(c.kind.value for c in result.changes)
    fired = kinds["fired"] + kinds["refired"]
    return InboundResult(
        accepted=len(findings) + len(clears),
        fired=fired,
        updated=max(0, len(findings) - fired),
        resolved=kinds["resolved"],
        alert_ids=sorted({c.alert_id for c in result.changes}),
    )
