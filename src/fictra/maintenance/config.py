"""config/maintenance.yaml: stakeholder notice lead time, reminders, who is told.

A section of the config set (:mod:`fictra.platform.config_set`). Every key has a default, so a config
directory without maintenance.yaml gets working windows whose notices go to nobody.
:func:`check_references` checks the recipients against receivers.yaml (this module reads no file).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fictra.config.fields import Duration

__all__ = ["FILE", "MaintenanceConfig", "check_references"]

FILE = "maintenance.yaml"


class MaintenanceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lead_time: Duration = Field(
        default=timedelta(hours=24), description="Stakeholders are told this long before a window starts."
    )
    forgotten_after: Duration = Field(
        default=timedelta(hours=4),
        description="An emergency window still open after this long is reminded (then again every period).",
    )
    recipients: list[str] = Field(
        default_factory=list,
        description="Receivers of receivers.yaml sent the status updates (before, at start, at end).",
    )
    owner_receiver: str = Field(
        default="ops-log",
        description="Receiver told of overruns and forgotten windows when the owner is no on-call person.",
    )
    tick_interval: Duration = Field(
        default=timedelta(seconds=30), description="How often the maintenance job runs."
    )
    max_duration: Duration = Field(
        default=timedelta(days=7), description="Longest scheduled window (one occurrence)."
    )

    @model_validator(mode="after")
    def _positive(self) -> MaintenanceConfig:
        for name in ("lead_time", "forgotten_after", "tick_interval", "max_duration"):
            if getattr(self, name) <= timedelta(0):
                raise ValueError(f"{name} must be positive")
        if len(set(self.recipients)) != len(self.recipients):
            raise ValueError("recipients are listed more than once")
        return self


def check_references(cfg: MaintenanceConfig, *, receivers: dict[str, list[str]] | None) -> list[str]:
    """Every recipient (and the owner receiver) is a receiver of receivers.yaml (None: not checked)."""
    if receivers is None:
        return []
    known = ", ".join(sorted(receivers)) or "none"
    problems = [
        f"{FILE}:recipients: unknown receiver '{name}' (receivers.yaml has: {known})"
        for name in cfg.recipients
        if name not in receivers
    ]
    if cfg.owner_receiver not in receivers:
        problems.append(
            f"{FILE}:owner_receiver: unknown receiver '{cfg.owner_receiver}' (receivers.yaml has: {known})"
        )
    return problems
