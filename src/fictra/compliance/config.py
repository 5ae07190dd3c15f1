"""config/compliance.yaml: screening (which tokens, severities, the name-match threshold), KYC alerting.

A section of the config set (:mod:`fictra.platform.config_set`). Every key has a default, so a config
directory without compliance.yaml screens PaymentToken and FoundationToken transfers against whatever
lists were imported.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from fictra.config.fields import Duration

__all__ = [
    "FILE",
    "AmlConfig",
    "ComplianceConfig",
    "FeedConfig",
    "FilingConfig",
    "KycConfig",
    "NamesConfig",
    "ScreeningConfig",
]

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
    reload_every: Duration = Field(
        default=timedelta(seconds=5),
        description="Block time between looks at what changes outside the chain (a new list version, "
        "dispositions, KYC records); a batch that opens a hit always looks.",
    )
    exposure_hops: int = Field(
        default=2,
        ge=0,
        le=4,
        description="Indirect exposure: counterparties up to this many hops from a listed "
        "address in the typologies' window (0: off).",
    )
    exposure_decay: float = Field(
        default=0.5, gt=0, lt=1, description="Exposure score per hop (1 hop: decay)."
    )
    exposure_severity: str = Field(
        default="P2", pattern=SEVERITY, description="Severity of indirect exposure."
    )
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


class AmlConfig(BaseModel):
    """AML typologies over PT/FT transfers (amounts in whole tokens, 18 decimals). Each typology hit scores
    its weight; an address whose score in the window reaches ``alert_score`` is raised at ``alert_severity``,
    below that at ``severity``."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(default=True, description="Run the typologies in the screening monitor.")
    decimals: int = Field(
        default=18, ge=0, le=36, description="Token decimals (amounts below are whole tokens)."
    )
    window: Duration = Field(default=timedelta(minutes=10), description="Sliding window (block time).")
    large_amount: float = Field(default=100_000, gt=0, description="A single transfer at or above this.")
    structuring_threshold: float = Field(default=10_000, gt=0, description="The reporting threshold avoided.")
    structuring_margin: float = Field(
        default=0.1, gt=0, lt=1, description="Below the threshold by at most this share."
    )
    structuring_count: int = Field(
        default=3, ge=2, description="That many such transfers by one sender in the window."
    )
    fan_count: int = Field(default=6, ge=2, description="Distinct counterparties for fan-in / fan-out.")
    group_count: int = Field(
        default=3, ge=2, description="Intermediaries for scatter-gather / gather-scatter."
    )
    max_cycle: int = Field(default=5, ge=2, le=8, description="Longest cycle searched (bounded search).")
    pass_through_min: float = Field(
        default=5_000, gt=0, description="Smallest inflow judged for pass-through."
    )
    pass_through_ratio: float = Field(default=0.9, gt=0, le=1, description="Share of the inflow sent on.")
    dormant_after: Duration = Field(
        default=timedelta(days=30), description="Silence before 'dormant then active'."
    )
    dormant_amount: float = Field(
        default=10_000, gt=0, description="Smallest transfer that wakes a dormant address."
    )
    fresh_count: int = Field(
        default=4, ge=2, description="Never-seen counterparties of one sender in the window."
    )
    weights: dict[str, float] = Field(
        default_factory=lambda: {
            "large": 2.0,
            "structuring": 3.0,
            "fan_in": 2.0,
            "fan_out": 2.0,
            "cycle": 4.0,
            "pass_through": 3.0,
            "scatter_gather": 4.0,
            "gather_scatter": 4.0,
            "dormant_active": 2.0,
            "fresh_counterparties": 2.0,
        },
        description="Score of each typology hit (the address risk score adds them up in the window).",
    )
    alert_score: float = Field(default=6, gt=0, description="Address score raised at alert_severity.")
    severity: str = Field(default="P3", pattern=SEVERITY, description="Severity of a typology hit.")
    alert_severity: str = Field(
        default="P2", pattern=SEVERITY, description="Severity once the score reaches alert_score."
    )


class FilingConfig(BaseModel):
    """A regulatory filing on a calendar: due ``due_days`` after the end of each period."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="Filing id, e.g. monthly-transactions."
    )
    authority: str = Field(min_length=1, max_length=200, description="Who it is filed with.")
    period: str = Field(pattern=r"^(monthly|quarterly|annual)$", description="monthly, quarterly or annual.")
    due_days: int = Field(default=15, ge=0, le=365, description="Days after the period's end it is due.")
    template: str = Field(
        default="", max_length=300, description="The authority's template (a name or path)."
    )
    severity: str = Field(default="P1", pattern=SEVERITY, description="Severity of a missed due date.")
    since: date | None = Field(
        default=None, description="First period filed (earlier periods are not judged)."
    )


class FeedConfig(BaseModel):
    """A regulator's RSS/Atom feed (a URL or a local file): new items become triage tasks."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="Feed id.")
    source: str = Field(min_length=1, max_length=1000, description="Local path (relative to the config dir).")


class ComplianceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    screening: ScreeningConfig = Field(default_factory=ScreeningConfig)
    names: NamesConfig = Field(default_factory=NamesConfig)
    kyc: KycConfig = Field(default_factory=KycConfig)
    aml: AmlConfig = Field(default_factory=AmlConfig)
    filings: list[FilingConfig] = Field(default_factory=list, description="The regulatory filings calendar.")
    feeds: list[FeedConfig] = Field(
        default_factory=list, description="Regulators' feeds, triaged into tasks."
    )
    feeds_every: Duration = Field(default=timedelta(hours=1), description="How often the feeds are read.")
