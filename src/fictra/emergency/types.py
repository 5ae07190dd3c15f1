"""Plain values shared with other domains: the timeline item (incident timelines merge them) and the read
models of an emergency action (API, CLI, console).

:class:`TimelineItem` is a frozen dataclass so the incidents domain can build its own items without
depending on Pydantic; the read models are Pydantic so FastAPI serialises them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel

__all__ = [
    "ACTIVE_STATUSES",
    "FINAL_STATUSES",
    "ActionEventView",
    "ActionView",
    "ApprovalView",
    "DryRunView",
    "TimelineItem",
    "TxView",
]


@dataclass(frozen=True)
class TimelineItem:
    """One line of an incident timeline: when, what kind of event, who, a readable sentence, a reference
    (``action:12``, a tx hash...) and the structured details behind the sentence."""

    at: datetime
    kind: str
    actor: str
    text: str
    ref: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


# proposed -> approved -> executing -> (scheduled ->) submitted -> included -> confirmed -> verified
# any non-final -> failed | cancelled; amend sends approved back to proposed.
FINAL_STATUSES = frozenset({"verified", "failed", "cancelled"})
ACTIVE_STATUSES = frozenset({"executing", "scheduled", "submitted", "included", "confirmed"})


class ApprovalView(BaseModel):
    id: int
    approver: str
    roles: list[str]
    params_hash: str
    approved_at: datetime
    expires_at: datetime
    via: str  # "person" | "policy:<name>"
    valid: bool  # unexpired and bound to the current params
    note: str | None = None  # why it no longer counts


class TxView(BaseModel):
    id: int
    step: int
    label: str
    to: str
    signer: str
    nonce: int | None
    tx_hash: str | None
    status: str  # signed | submitted | included | confirmed | failed
    block_number: int | None
    gas_used: int | None
    effective_gas_price: int | None
    confirmations: int
    error: str | None


class DryRunView(BaseModel):
    id: int
    action_id: int
    params_hash: str
    at: datetime
    block_number: int
    ok: bool
    traced: bool  # effects from debug_traceCall; False = call + gas only
    steps: list[dict[str, Any]]
    summary: str


class ActionEventView(BaseModel):
    id: int
    action_id: int
    at: datetime
    kind: str
    actor: str
    text: str
    details: dict[str, Any]


class ActionView(BaseModel):
    id: int
    kind: str
    title: str
    params: dict[str, Any]
    params_hash: str
    status: str
    proposed_by: str
    proposed_at: datetime
    reason: str | None
    incident_id: int | None
    trigger_alert_id: int | None
    policy: str | None
    approvals: list[ApprovalView]
    approvals_needed: str  # the rule in words
    rule_satisfied: bool
    dry_run: DryRunView | None
    txs: list[TxView]
    scheduled_ready_at: datetime | None
    alert_to_confirmed_seconds: float | None
    verification: dict[str, Any] | None
    error: str | None
    updated_at: datetime
    events: list[ActionEventView]
