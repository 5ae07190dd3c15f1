"""config/economics.yaml: the PT pool monitor (peg, volatility, depth thresholds) and the fee replay.

A section of the config set (:mod:`fictra.platform.config_set`). Every key has a default.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["FILE", "EconomicsConfig", "Levels", "PoolMonitorConfig", "check_references"]

FILE = "economics.yaml"


class Levels(BaseModel):
    """A P2 level and a higher P1 level of the same measure."""

    model_config = ConfigDict(extra="forbid")
    p2: float = Field(gt=0, description="At or above: P2.")
    p1: float = Field(gt=0, description="At or above: P1.")

    @model_validator(mode="after")
    def _order(self) -> Levels:
        if self.p1 < self.p2:
            raise ValueError("p1 must be at least p2")
        return self


class PoolMonitorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(default=True, description="Run the PT pool monitor at every processed batch.")
    monitor: str = Field(default="pt-market", min_length=1, description="Monitor name of its alerts.")
    pool: str = Field(default="Pool:PT-CASH", description="Manifest name of the PT/CASH Uniswap V2 pair.")
    token: str = Field(default="PaymentToken", description="Manifest name of the PaymentToken.")
    peg: Levels = Field(
        default_factory=lambda: Levels(p2=0.02, p1=0.05),
        description="Peg levels: P1 on |spot − 1.0| (or TWAP), P2 on |TWAP − 1.0|.",
    )
    volatility: Levels = Field(
        default_factory=lambda: Levels(p2=0.01, p1=0.03),
        description="EWMA (λ = 0.94) volatility of the log price per processed batch.",
    )
    depth_1pct: float = Field(
        default=0.02, gt=0, lt=1, description="Price impact of selling 1% of the PT reserve above this: P2."
    )
    twap_window: int = Field(default=60, ge=2, le=10_000, description="Observations kept for the TWAP.")
    lam: float = Field(default=0.94, gt=0, lt=1, description="EWMA decay λ.")


class EconomicsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pool: PoolMonitorConfig = Field(default_factory=PoolMonitorConfig)


def check_references(
    config: EconomicsConfig, *, contracts: list[str] | None, notes: list[str] | None = None
) -> list[str]:
    """The pool monitor's contracts must be in the manifest. Without a ``pool:`` block in economics.yaml
    (the defaults) a deployment that lacks them only gets a note: the monitor is not built."""
    if contracts is None or not config.pool.enabled:
        return []
    if "pool" not in config.model_fields_set:
        missing = [n for n in (config.pool.pool, config.pool.token) if n not in contracts]
        if missing and notes is not None:
            notes.append(f"{FILE}: the deployment has no {', '.join(missing)}: the PT pool monitor is off.")
        return []
    return [
        f"{FILE}:pool.{key}: contract '{name}' is not in the deployment manifest."
        for key, name in (("pool", config.pool.pool), ("token", config.pool.token))
        if name not in contracts
    ]
