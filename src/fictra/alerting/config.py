"""``config/alerting.yaml``: acknowledgement deadlines per severity (the runbook's response times)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from fictra.alerting.findings import Severity
from fictra.config.fields import Duration

RUNBOOK_RESPONSE_TIMES: dict[Severity, timedelta] = {
    Severity.P0: timedelta(minutes=15),
    Severity.P1: timedelta(hours=1),
    Severity.P2: timedelta(hours=4),
    Severity.P3: timedelta(hours=24),
}


class AckDeadlines(BaseModel):
    """Time to acknowledge an alert of each severity, from when it fires."""

    model_config = ConfigDict(extra="forbid")

    P0: Duration = Field(default=timedelta(minutes=15), description="Critical: acknowledge within.")
    P1: Duration = Field(default=timedelta(hours=1), description="High: acknowledge within.")
    P2: Duration = Field(default=timedelta(hours=4), description="Medium: acknowledge within.")
    P3: Duration = Field(default=timedelta(hours=24), description="Low: acknowledge within.")


class AlertingConfig(BaseModel):
    """Alert store behaviour."""

    model_config = ConfigDict(extra="forbid")

    ack_deadlines: AckDeadlines = Field(
        default_factory=AckDeadlines, description="Acknowledgement deadline per severity (runbook SLA)."
    )
    history_size: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Occurrences kept per alert (the latest evidence is always kept).",
    )


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    """What the store needs from the config: deadlines per severity and the history bound."""

    ack_deadlines: dict[Severity, timedelta] = field(default_factory=lambda: dict(RUNBOOK_RESPONSE_TIMES))
    history_size: int = 20

    @classmethod
    def from_config(cls, config: AlertingConfig) -> AlertPolicy:
        deadlines = {sev: getattr(config.ack_deadlines, sev.value) for sev in Severity}
        return cls(ack_deadlines=deadlines, history_size=config.history_size)

    def deadline(self, severity: Severity) -> timedelta:
        return self.ack_deadlines[severity]
