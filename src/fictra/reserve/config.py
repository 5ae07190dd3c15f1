"""config/reserve.yaml: the proof-of-reserve monitor's thresholds and the publisher of the on-chain
proof-of-reserve feed.

A section of the config set (:mod:`fictra.platform.config_set`). Every key has a default, so a config
directory without reserve.yaml watches the reserve with the defaults and publishes nothing.
:func:`check_references` checks the contracts named against the deployment manifest.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fictra.alerting.findings import Severity
from fictra.config.fields import Duration

__all__ = [
    "FILE",
    "AllocationTarget",
    "LiquidityPolicy",
    "ProofConfig",
    "PublisherConfig",
    "ReserveConfig",
    "check_references",
]

FILE = "reserve.yaml"


class ProofConfig(BaseModel):
    """The proof-of-reserve block monitor (runs at the last block of every batch the follower reads)."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(default=True, description="Run the proof-of-reserve monitor.")
    monitor: str = Field(default="proof-of-reserve", min_length=1, description="Monitor name of its alerts.")
    min_collateral_ratio: float = Field(
        default=1.0, gt=0, description="Below this ratio (reserve value / PT supply) the reserve is short."
    )
    below_severity: Severity = Field(default=Severity.P0, description="Severity of a short reserve.")
    stale_severity: Severity = Field(default=Severity.P1, description="Severity of a stale asset price.")
    max_price_age: Duration | None = Field(
        default=None,
        description="A price older than this is stale (valued at zero); none: each feed's heartbeat "
        "from the manifest (3600 s when the manifest has none).",
    )
    reserve: str = Field(default="Reserve", description="Manifest name of the Reserve contract.")
    token: str = Field(default="PaymentToken", description="Manifest name of the PaymentToken.")
    confirmations: int = Field(default=0, ge=0, le=64, description="Confirmations before an alert counts.")


class PublisherConfig(BaseModel):
    """The job that publishes the computed reserve value to the on-chain proof-of-reserve feed (read by
    the PaymentToken's secure-mint check), signed with the operator key through the transaction sender."""

    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(default=False, description="Publish (needs the keystore below).")
    feed: str = Field(default="ProofOfReserve", description="Manifest name of the ProofOfReserveFeed.")
    every: Duration = Field(default=timedelta(minutes=1), description="How often the job runs.")
    min_change_bps: int = Field(
        default=10, ge=0, le=10_000, description="Publish when the value moved at least this much..."
    )
    max_age: Duration = Field(
        default=timedelta(hours=1), description="...or when the published answer is older than this."
    )
    keystore: str = Field(
        default="${devnet_dir}/keys/operator.json",
        min_length=1,
        description="V3 keystore of the UPDATER_ROLE key; may start with ${data_dir}/${devnet_dir}.",
    )
    passphrase: str = Field(
        default="file:${devnet_dir}/keys/operator.pass", description="Secret reference: env:VAR or file:path."
    )
    role: str | None = Field(default="operator", description="Manifest role whose address the key must hold.")

    @field_validator("passphrase")
    @classmethod
    def _reference(cls, value: str) -> str:
        if not value.startswith(("env:", "file:")):
            raise ValueError("must be a secret reference: env:VAR or file:path (never the passphrase itself)")
        return value


class AllocationTarget(BaseModel):
    """One asset's place in the allocation policy."""

    model_config = ConfigDict(extra="forbid")
    target: float = Field(ge=0, le=1, description="Target weight in the counted reserve value (0..1).")
    band: float = Field(gt=0, le=1, description="Tolerance: |weight - target| above this is a breach.")
    tier: int = Field(default=1, ge=1, le=3, description="Liquidity tier (1: most liquid).")
    max_trade_usd: int | None = Field(
        default=None, ge=1, description="Liquidity limit: largest rebalancing trade in USD (none: no limit)."
    )


class LiquidityPolicy(BaseModel):
    """Liquidity management: the most liquid tier's share of the counted reserve and a redemption stress."""

    model_config = ConfigDict(extra="forbid")
    min_tier1_share: float = Field(default=0.5, ge=0, le=1, description="Tier-1 assets' minimum share.")
    stress_redemption_share: float = Field(
        default=0.2, ge=0, le=1, description="Share of the PT supply that tier-1 assets must cover at once."
    )
    severity: Severity = Field(default=Severity.P2, description="Severity of a liquidity shortfall.")


class ReserveConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    proof: ProofConfig = Field(default_factory=ProofConfig)
    publisher: PublisherConfig = Field(default_factory=PublisherConfig)
    allocation: dict[str, AllocationTarget] = Field(
        default_factory=dict, description="Asset symbol -> target weight, band, tier (targets sum to 1)."
    )
    drift_severity: Severity = Field(default=Severity.P2, description="Severity of an asset out of its band.")
    liquidity: LiquidityPolicy = Field(default_factory=LiquidityPolicy, description="Liquidity management.")


def check_references(
    config: ReserveConfig, *, contracts: list[str] | None, notes: list[str] | None = None
) -> list[str]:
    """Every contract named must be in the deployment manifest (when one is given).

    Names that only come from the defaults (no ``proof:``/``publisher:`` block in reserve.yaml) are not
    refused when the deployment lacks them: the monitor is simply not built, and a note says so."""
    if contracts is None:
        return []
    problems: list[str] = []
    named: list[tuple[str, str]] = []
    if config.proof.enabled or config.publisher.enabled:
        named += [("proof.reserve", config.proof.reserve), ("proof.token", config.proof.token)]
    if config.publisher.enabled:
        named.append(("publisher.feed", config.publisher.feed))
    configured = {"proof", "publisher"} & config.model_fields_set
    for key, name in named:
        if name not in contracts and not configured:
            if notes is not None:
                notes.append(f"{FILE}: the deployment has no '{name}' ({key}): the proof of reserve is off.")
            continue
        if name not in contracts:
            problems.append(
                f"{FILE}:{key}: contract '{name}' is not in the deployment manifest; expected one of: "
                f"{', '.join(sorted(contracts))}"
            )
    if config.allocation:
        total = sum(t.target for t in config.allocation.values())
        if abs(total - 1.0) > 1e-9:
            problems.append(f"{FILE}:allocation: the targets sum to {total:g}; they must sum to 1.")
    return problems
