"""config/support.yaml: the support queue's SLAs per priority, categories, the SMTP intake and replies.

A section of the config set (:mod:`fictra.platform.config_set`). Every key has a default, so a config
directory without support.yaml gets a working queue whose email intake is disabled and whose replies are
refused until ``replies.receiver`` names a receiver with a ``direct: true`` email channel.
:func:`check_references` checks that receiver against receivers.yaml (this module reads no file).
"""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from fictra.config.fields import Duration

__all__ = ["FILE", "PRIORITIES", "PrioritySla", "Replies", "SmtpIntake", "SupportConfig", "check_references"]

FILE = "support.yaml"
PRIORITIES = ("P0", "P1", "P2", "P3")
_CATEGORY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class PrioritySla(BaseModel):
    """How soon a ticket of this priority gets its first public reply, and how soon it is solved."""

    model_config = ConfigDict(extra="forbid")
    first_response: Duration = Field(description="First public reply due this long after the ticket opens.")
    resolution: Duration = Field(description="Ticket solved this long after it opens.")

    @model_validator(mode="after")
    def _order(self) -> PrioritySla:
        if self.first_response <= timedelta(0) or self.resolution < self.first_response:
            raise ValueError("first_response must be positive and resolution at least first_response")
        return self


def _default_slas() -> dict[str, PrioritySla]:
    hours = {"P0": (0.25, 4), "P1": (1, 24), "P2": (4, 72), "P3": (24, 168)}
    return {
        p: PrioritySla(first_response=timedelta(hours=first), resolution=timedelta(hours=solve))
        for p, (first, solve) in hours.items()
    }


class SmtpIntake(BaseModel):
    """The inbound SMTP server: each message to it opens a ticket (or comments on its thread)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(default=False, description="Start the intake server with the platform.")
    host: str = Field(
        default="127.0.0.1", description="Listen address (keep it on loopback: a relay in front)."
    )
    port: int = Field(default=2525, ge=1, le=65535)
    max_bytes: int = Field(
        default=1_000_000, ge=1024, le=25_000_000, description="Largest message accepted (bytes)."
    )
    priority: str = Field(default="P3", description="Priority of tickets opened by email.")
    category: str = Field(default="general", description="Category of tickets opened by email.")


class Replies(BaseModel):
    """Where public replies go: a receiver of receivers.yaml whose email channel has ``direct: true``
    (it then sends each reply to the ticket's requester)."""

    model_config = ConfigDict(extra="forbid")
    receiver: str | None = Field(default=None, description="Receiver name; none: replies are refused.")
    channel: str = Field(default="email", description="That receiver's email channel name.")


class SupportConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slas: dict[str, PrioritySla] = Field(default_factory=_default_slas, description="P0-P3 -> deadlines.")
    categories: list[str] = Field(
        default_factory=lambda: ["general", "access", "transactions", "settlement", "technical"],
        min_length=1,
    )
    default_priority: str = "P3"
    intake: SmtpIntake = Field(default_factory=SmtpIntake)
    replies: Replies = Field(default_factory=Replies)

    @field_validator("categories")
    @classmethod
    def _categories(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _CATEGORY.match(name):
                raise ValueError(
                    f"category '{name}' is not valid: use 1-64 lowercase letters, digits, '_', '-'"
                )
        if len(set(value)) != len(value):
            raise ValueError("categories are listed more than once")
        return value

    @model_validator(mode="after")
    def _complete(self) -> SupportConfig:
        missing = [p for p in PRIORITIES if p not in self.slas]
        unknown = sorted(set(self.slas) - set(PRIORITIES))
        if missing or unknown:
            raise ValueError(
                f"slas needs exactly P0, P1, P2, P3 (missing: {', '.join(missing) or 'none'}; "
                f"unknown: {', '.join(unknown) or 'none'})"
            )
        for where, value in (
            ("default_priority", self.default_priority),
            ("intake.priority", self.intake.priority),
        ):
            if value not in PRIORITIES:
                raise ValueError(f"{where} '{value}' is not one of P0, P1, P2, P3")
        if self.intake.category not in self.categories:
            raise ValueError(f"intake.category '{self.intake.category}' is not in categories")
        return self

    def sla(self, priority: str) -> PrioritySla:
        return self.slas[priority]


def check_references(cfg: SupportConfig, *, receivers: dict[str, list[str]] | None) -> list[str]:
    """The reply receiver and its channel exist in receivers.yaml (None: no receivers.yaml, not checked)."""
    name = cfg.replies.receiver
    if receivers is None or name is None:
        return []
    if name not in receivers:
        known = ", ".join(sorted(receivers)) or "none"
        return [f"{FILE}:replies.receiver: unknown receiver '{name}' (receivers.yaml has: {known})"]
    if cfg.replies.channel not in receivers[name]:
        return [
            f"{FILE}:replies.channel: receiver '{name}' has no channel '{cfg.replies.channel}' "
            f"(it has: {', '.join(receivers[name])})"
        ]
    return []
