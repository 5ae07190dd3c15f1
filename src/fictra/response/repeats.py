"""A repeat of a firing one-off event, told at once (``repeated`` changes; see docs/alerting.md).

A one-off event rule's alert stays firing until someone resolves it, so a second ``pauseAll`` or
``RoleGranted`` would only bump its count. When the rule notifies repeats (P0/P1 by default), the store
emits one ``repeated`` change per new occurrence; this stage sends one notification per occurrence and
route, with that occurrence's block and evidence, outside grouping (a group would fold it into a
notification already sent) and without touching the SLA clocks or the escalation (the alert did not
re-fire: its acknowledgement deadline stays the first one).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fictra.alerting.models import Alert, AlertOccurrence
from fictra.notify.message import Message
from fictra.response.context import ResponseContext
from fictra.response.routing import RouteOpts


def repeat_message(ctx: ResponseContext, alert: Alert, occurrence: AlertOccurrence) -> Message:
    block = occurrence.block_number
    where = f" at block {block}" if block is not None else ""
    lines = [
        f"[{alert.severity}] {occurrence.summary} — happened again{where} (occurrence {alert.count} "
        "of this alert, which is still firing)",
        f"  Console: {ctx.link(alert.id)}",
    ]
    if alert.ack_deadline is not None and alert.acknowledged_at is None:
        lines.append(f"  Acknowledge by: {alert.ack_deadline.isoformat()}")
    if occurrence.tx_hashes:
        lines.append("  Transactions: " + ", ".join(occurrence.tx_hashes))
    lines += [f"  {k}: {v}" for k, v in list((occurrence.evidence or {}).items())[:12]]
    fields = {
        "repeat": "true",
        "occurrence": str(occurrence.id),
        "count": str(alert.count),
        "monitor": alert.monitor,
        "network": alert.network,
    }
    if block is not None:
        fields["block_number"] = str(block)
    return Message(
        subject=f"[{alert.severity}] again: {occurrence.summary}"[:500],
        body="\n".join(lines),
        severity=alert.severity,
        alert_id=alert.id,
        link=ctx.link(alert.id),
        fields=fields,
        status="firing",
        deadline=alert.ack_deadline,
        evidence=dict(occurrence.evidence or {}),
        group_key=f"alert-{alert.id}",
    )


async def notify_repeat(
    session: AsyncSession,
    ctx: ResponseContext,
    *,
    alert: Alert,
    occurrence_id: int,
    routes: list[RouteOpts],
) -> int:
    """One notification per receiver of the alert's routes, in the transaction that stored the occurrence
    (the outbox key names it). The number of outbox rows written."""
    occurrence = await session.get(AlertOccurrence, occurrence_id)
    if occurrence is None or occurrence.retracted_at is not None:
        return 0
    message = repeat_message(ctx, alert, occurrence)
    written = 0
    for receiver in dict.fromkeys(r.receiver for r in routes):
        written += len(
            await ctx.notify(
                session, receiver=receiver, message=message, key=f"repeat:{occurrence_id}:{receiver}"
            )
        )
    return written
