"""config/compliance.yaml: screening (which tokens, severities, the name-match threshold), KYC alerting.

A section of the config set (:mod:`fictra.platform.config_set`). Every key has a default, so a config
directory without compliance.yaml screens PaymentToken and FoundationToken transfers against whatever
lists were imported.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from fictra.config.fields import Duration

__all__ = ["FILE", "ComplianceConfig", "KycConfig", "NamesConfig", "ScreeningConfig"]

FILE = "compliance.yaml"
SEVERITY = r"^P[0-3]$"


class ScreeningConfig(BaseModel):
    """Screening at the head: every Transfer of these tokens, both addresses, against the active lists."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(default=True, description="Run the screening monitor with the platform.")
    tokens: list[str] = Field(
        default_factory=lambda: ["PaymentToken", "FoundationToken"],
        description="Manifest contract names whose Transfer events are screened.",
    )
    severity: str = Field(default="P0", pattern=SEVERITY, description="Severity of an address hit.")
    suggested_action: str = Field(
        default="PaymentToken.blockAddress",
        description="The hold suggested with an address hit (COMPLIANCE_ROLE on PaymentToken).",
    )


class NamesConfig(BaseModel):
    """Fuzzy matching of participant and counterparty names against the lists' names and aliases."""

    model_config = ConfigDict(extra="forbid")
    threshold: float = Field(
        default=0.90, ge=0.5, le=1.0, description="Score (0-1) at or above which a name is a hit."
    )
    severity: str = Field(default="P1", pattern=SEVERITY, description="Severity of a name hit.")


class KycConfig(BaseModel):
    """KYC records of participants: review reminders, expiry, transfers without an approved KYC."""

    model_config = ConfigDict(extra="forbid")
    check_every: Duration = Field(default=timedelta(hours=1), description="How often records are checked.")
    review_lead: Duration = Field(
        default=timedelta(days=14), description="Alert this long before a periodic review is due."
    )
    severity: str = Field(default="P2", pattern=SEVERITY, description="Severity of expiry/review alerts.")
    transfer_severity: str = Field(
        default="P1",
        pattern=SEVERITY,
        description="Severity of a transfer by a participant without approved KYC.",
    )


class ComplianceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    screening: ScreeningConfig = Field(default_factory=ScreeningConfig)
    names: NamesConfig = Field(default_factory=NamesConfig)
    kyc: KycConfig = Field(default_factory=KycConfig)
