"""What one group notification says: every alert with its labels, evidence (an inbound alert's
annotations), console link and acknowledgement deadline; the summary in the subject; the group's severity
and counts on firing and resolved notices alike (Alertmanager's ``[FIRING:n]`` / ``[RESOLVED:n]``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.notify.message import Message
from fictra.response.context import ResponseContext
from fictra.response.grouping import GroupedAlert, GroupNotification

_EVIDENCE_ITEMS = 12
_VALUE_CHARS = 200


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= _VALUE_CHARS else text[: _VALUE_CHARS - 3] + "..."


def _severity(alerts: Sequence[GroupedAlert]) -> str:
    return min((a.severity for a in alerts), default="P3")


def group_subject(group: GroupNotification) -> str:
    """The lead alert's summary (the worst severity first), and how many more there are."""
    alerts = group.firing or group.resolved
    lead = min(alerts, key=lambda a: (a.severity, a.alert_id))
    more = f" (+{len(alerts) - 1} more)" if len(alerts) > 1 else ""
    return f"{lead.summary}{more}"[:500]


def alert_entry(ctx: ResponseContext, alert: GroupedAlert) -> dict[str, Any]:
    """One alert of a group as a webhook receiver sees it (Alertmanager's ``alerts[]``, plus ours)."""
    return {
        "alert_id": alert.alert_id,
        "status": "firing" if alert.firing else "resolved",
        "severity": alert.severity,
        "summary": alert.summary,
        "labels": dict(alert.labels),
        "evidence": {k: _value(v) for k, v in list(alert.evidence.items())[:_EVIDENCE_ITEMS]},
        "link": ctx.link(alert.alert_id),
        "deadline": alert.deadline.isoformat() if alert.deadline is not None and alert.firing else None,
    }


def _lines(entry: dict[str, Any]) -> list[str]:
    lines = [f"[{entry['severity']}] {entry['summary']} — {entry['status']}", f"  Console: {entry['link']}"]
    if entry["deadline"]:
        lines.append(f"  Acknowledge by: {entry['deadline']}")
    if entry["labels"]:
        lines.append("  Labels: " + ", ".join(f"{k}={v}" for k, v in sorted(entry["labels"].items())))
    for key, value in entry["evidence"].items():
        lines.append(f"  {key}: {value}")
    return lines


def group_message(ctx: ResponseContext, group: GroupNotification) -> Message:
    entries = [alert_entry(ctx, a) for a in [*group.firing, *group.resolved]]
    body: list[str] = []
    for entry in entries:
        body += [*_lines(entry), ""]
    only = group.firing[0] if len(group.firing) == 1 else None
    return Message(
        subject=group_subject(group),
        body="\n".join(body).rstrip(),
        severity=_severity(group.firing) if group.firing else _severity(group.resolved),
        alert_id=only.alert_id if only else None,
        link=ctx.link(only.alert_id) if only else None,
        fields={
            "group": group.group_key,
            "firing": str(len(group.firing)),
            "resolved": str(len(group.resolved)),
        },
        status="firing" if group.firing else "resolved",
        deadline=min((a.deadline for a in group.firing if a.deadline is not None), default=None),
        evidence=dict(group.firing[0].evidence) if only else {},
        group_key=group.group_key[:255],
        alerts=entries,
    )


def flush_key(group: GroupNotification) -> str:
    """The outbox key of one flush: the group's formation time and flush number come first (the group
    key may be cut at 240 characters), so a flush repeated after a crash is deduplicated by the outbox
    and two flushes never share a key."""
    formed = f"{group.created.timestamp():.6f}" if group.created is not None else "-"
    return f"group:{formed}:{group.flush}:{group.group_key}"[:240]


async def send_groups(
    session: AsyncSession, ctx: ResponseContext, groups: Sequence[GroupNotification]
) -> None:
    for group in groups:
        if not group.firing and not group.resolved:
            continue
        await ctx.notify(
            session,
            receiver=group.receiver,
            message=group_message(ctx, group),
            key=flush_key(group),
        )
