"""Inbound alerts: Prometheus Alertmanager's webhook payload (version 4) and a generic JSON shape,
turned into Findings/Clears and applied to the alert store (deduplicated by fingerprint).

An Alertmanager alert becomes the monitor ``alertmanager/<alertname>``; its labels (less ``severity``
and ``network``) identify the condition, so repeats update one alert and ``status: resolved`` clears
it. Evidence is the alert's annotations plus its start and generator URL. ``severity`` maps
critical/page -> P0, high/error -> P1, warning -> P2, info/low -> P3 (P0..P3 are taken as they are;
anything else is P2). ``network`` (default "external") keeps these alerts apart from the chain's own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.config import AlertPolicy
from fictra.alerting.findings import Clear, Finding, Severity
from fictra.alerting.service import AlertChange, apply_findings
from fictra.clock import Clock

DEFAULT_NETWORK = "external"
MAX_ALERTS = 5000
_SEVERITY = {
    "p0": Severity.P0, "critical": Severity.P0, "page": Severity.P0, "emergency": Severity.P0,
    "p1": Severity.P1, "high": Severity.P1, "error": Severity.P1, "major": Severity.P1,
    "p2": Severity.P2, "warning": Severity.P2, "medium": Severity.P2, "minor": Severity.P2,
    "p3": Severity.P3, "info": Severity.P3, "low": Severity.P3, "none": Severity.P3,
}  # fmt: skip
Labels = dict[str, str]


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
    """https://prometheus.io/docs/alerting/latest/configuration/#webhook_config (version "4")."""

    model_config = ConfigDict(extra="allow")
    version: Literal["4"]
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
    severity: Severity = Severity.P2
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


def severity_of(labels: Labels) -> Severity:
    raw = labels.get("severity", "").strip().lower()
    return _SEVERITY.get(raw, Severity.P2)


def from_alertmanager(payload: AlertmanagerPayload) -> tuple[list[Finding], list[Clear]]:
    findings: list[Finding] = []
    clears: list[Clear] = []
    for alert in payload.alerts:
        labels = {**payload.commonLabels, **alert.labels}
        network = (labels.get("network") or DEFAULT_NETWORK)[:64]
        monitor = f"alertmanager/{labels.get('alertname', 'unnamed')}"[:200]
        ident = {k: v for k, v in labels.items() if k not in ("severity", "network")}
        if alert.status == "resolved":
            clears.append(Clear(monitor=monitor, labels=ident, network=network))
            continue
        notes = {**payload.commonAnnotations, **alert.annotations}
        summary = (
            notes.get("summary") or notes.get("description") or labels.get("alertname", "Alertmanager alert")
        )
        # flat and small: the store keeps it with every occurrence in the alert's history
        evidence: dict[str, object] = {**notes, "source": "alertmanager"}
        if alert.startsAt is not None:
            evidence["starts_at"] = alert.startsAt.isoformat()
        if alert.generatorURL:
            evidence["generator_url"] = alert.generatorURL
        findings.append(
            Finding(
                monitor=monitor,
                severity=severity_of(labels),
                summary=summary[:2000],
                labels=ident,
                network=network,
                evidence=evidence,
            )
        )
    return findings, clears


def from_generic(payload: GenericPayload) -> tuple[list[Finding], list[Clear]]:
    findings: list[Finding] = []
    clears: list[Clear] = []
    for alert in payload.alerts:
        monitor = f"{alert.source}/{alert.name}"
        if alert.status == "resolved":
            clears.append(Clear(monitor=monitor, labels=alert.labels, network=alert.network))
            continue
        findings.append(
            Finding(
                monitor=monitor,
                severity=alert.severity,
                summary=alert.summary or alert.name,
                labels=alert.labels,
                network=alert.network,
                evidence={"source": alert.source, **alert.evidence},
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
