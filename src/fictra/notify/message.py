"""The :class:`Message` every channel renders: what an alert notification says."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Message(BaseModel):
    """One notification's content, channel-independent; templates render it per channel.

    ``group_key`` names the condition across notifications (PagerDuty ``dedup_key``, Opsgenie ``alias``)
    so a later "resolved" message closes what the "firing" one opened; it defaults to the notification's
    idempotency key.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject: str = Field(min_length=1, max_length=500)
    body: str = ""
    severity: str = "P3"
    alert_id: int | None = None
    link: str | None = None
    fields: dict[str, str] = Field(default_factory=dict)
    status: str = Field(default="firing", pattern=r"^(firing|resolved|acknowledged)$")
    deadline: datetime | None = None
    evidence: dict[str, Any] = Field(default_factory=dict)
    group_key: str | None = Field(default=None, max_length=255)
    alerts: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=1000,
        description="A group notification's alerts (status, severity, summary, labels, evidence, link, "
        "deadline).",
    )
    recipients: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Addresses a `direct` email channel sends this message to (a support reply's requester).",
    )
