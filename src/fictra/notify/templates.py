"""Message templates per channel: the alert's summary, severity, deadline, evidence and console link.

Pure functions from an :class:`Envelope` to what each channel sends, so they are tested alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fictra.notify.message import Message

_PD_SEVERITY = {"P0": "critical", "P1": "error", "P2": "warning", "P3": "info"}
_OG_PRIORITY = {"P0": "P1", "P1": "P2", "P2": "P3", "P3": "P4"}
_EVIDENCE_LINES = 20


@dataclass(frozen=True, slots=True)
class Envelope:
    """A notification as a channel sees it: the message plus its outbox identity."""

    notification_id: int
    idempotency_key: str
    receiver: str
    channel: str
    message: Message
    attempt: int
    console_url: str

    @property
    def link(self) -> str | None:
        m = self.message
        base = self.console_url.rstrip("/")
        if m.link:
            return m.link if "://" in m.link else f"{base}/{m.link.lstrip('/')}"
        return f"{base}/alerts/{m.alert_id}" if m.alert_id is not None else None

    @property
    def group_key(self) -> str:
        return self.message.group_key or self.idempotency_key


def subject(env: Envelope) -> str:
    """``[P0 FIRING] <subject>`` (a subject that already starts with ``[P0]`` keeps only the new tag); a
    group notification adds its count as Alertmanager does: ``[P0 FIRING:2] <summary> (+1 more)``,
    ``[P1 RESOLVED:3] ...``."""
    m = env.message
    text = m.subject.removeprefix(f"[{m.severity}]").lstrip() or m.subject
    count = m.fields.get(m.status) if m.alerts else None
    return f"[{m.severity} {m.status.upper()}{f':{count}' if count else ''}] {text}"


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= 300 else text[:297] + "..."


def text_body(env: Envelope) -> str:
    """Plain text for email, chat (Apprise) and the log channel."""
    m = env.message
    lines = [m.subject, "", f"Severity: {m.severity}", f"Status: {m.status}"]
    if m.deadline is not None:
        word = "Acknowledge by" if m.status == "firing" else "Deadline"
        lines.append(f"{word}: {m.deadline.strftime('%Y-%m-%d %H:%M:%S UTC')}")
    if env.link:
        lines.append(f"Console: {env.link}")
    if m.body:
        lines += ["", m.body]
    if m.fields:
        lines += ["", *(f"{k}: {v}" for k, v in sorted(m.fields.items()))]
    if m.evidence:
        lines += ["", "Evidence:"]
        items = sorted(m.evidence.items())
        lines += [f"  {k}: {_value(v)}" for k, v in items[:_EVIDENCE_LINES]]
        if len(items) > _EVIDENCE_LINES:
            lines.append(f"  ... and {len(items) - _EVIDENCE_LINES} more")
    lines += ["", f"Notification {env.idempotency_key}"]
    return "\n".join(lines)


def webhook_payload(env: Envelope) -> dict[str, Any]:
    m = env.message
    return {
        "version": "1",
        "idempotency_key": env.idempotency_key,
        "group_key": env.group_key,
        "receiver": env.receiver,
        "status": m.status,
        "severity": m.severity,
        "subject": m.subject,
        "body": m.body,
        "alert_id": m.alert_id,
        "link": env.link,
        "deadline": m.deadline.isoformat() if m.deadline else None,
        "fields": m.fields,
        "evidence": m.evidence,
        "alerts": m.alerts,
    }


def pagerduty_event(env: Envelope, *, routing_key: str, source: str) -> dict[str, Any]:
    """PagerDuty Events API v2: trigger, or resolve/acknowledge the event with the same dedup_key."""
    m = env.message
    action = {"firing": "trigger", "resolved": "resolve", "acknowledged": "acknowledge"}[m.status]
    event: dict[str, Any] = {"routing_key": routing_key, "event_action": action, "dedup_key": env.group_key}
    if action == "trigger":
        details: dict[str, Any] = {**m.fields, "evidence": m.evidence}
        if m.deadline is not None:
            details["acknowledge_by"] = m.deadline.isoformat()
        event["payload"] = {
            "summary": f"[{m.severity}] {m.subject}"[:1024],
            "source": m.fields.get("network", source),
            "severity": _PD_SEVERITY.get(m.severity, "warning"),
            "component": m.fields.get("monitor"),
            "class": m.fields.get("monitor"),
            "custom_details": details,
        }
        event["payload"] = {k: v for k, v in event["payload"].items() if v is not None}
        event["client"] = "FICTRA Ops"
        if env.link:
            event["client_url"] = env.link
            event["links"] = [{"href": env.link, "text": "Open in the FICTRA Ops console"}]
    return event


def opsgenie_alert(env: Envelope, *, tags: list[str], responders: list[dict[str, str]]) -> dict[str, Any]:
    """Opsgenie Alert API create-alert body (message <= 130 chars, alias <= 512, details str -> str)."""
    m = env.message
    details = {k: v[:8000] for k, v in m.fields.items()}
    if env.link:
        details["console"] = env.link
    if m.deadline is not None:
        details["acknowledge_by"] = m.deadline.isoformat()
    body: dict[str, Any] = {
        "message": m.subject[:130],
        "alias": env.group_key[:512],
        "description": text_body(env)[:15000],
        "priority": _OG_PRIORITY.get(m.severity, "P3"),
        "source": "FICTRA Ops",
        "tags": [*tags, m.severity][:20],
        "details": details,
    }
    if m.fields.get("monitor"):
        body["entity"] = m.fields["monitor"][:512]
    if responders:
        body["responders"] = responders
    return body


def apprise_type(env: Envelope) -> str:
    m = env.message
    if m.status == "resolved":
        return "success"
    return {"P0": "failure", "P1": "failure", "P2": "warning"}.get(m.severity, "info")
