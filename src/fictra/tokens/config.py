"""config/tokens.yaml: the sovereign allocation registry (participant, country, address, allocation, KYC
status), the FT supply cap and the reconciliation monitor's settings.

A section of the config set (:mod:`fictra.platform.config_set`). Without tokens.yaml the registry is
empty: nothing is reconciled and every issuance request is refused as unknown.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fictra.alerting.findings import Severity
from fictra.config.fields import Duration

__all__ = ["FILE", "Kyc", "ReconcileConfig", "Sovereign", "TokensConfig", "check_references"]

FILE = "tokens.yaml"
_ID = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,31}$")
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


class Kyc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["approved", "pending", "expired", "rejected"] = Field(description="KYC review outcome.")
    expires: date | None = Field(default=None, description="The approval's end (none: no end date).")


class Sovereign(BaseModel):
    """One sovereign participant: its on-chain id on FoundationToken is the ASCII ``id`` right-padded."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(description="Sovereign id as registered on FoundationToken, e.g. SOVEREIGN-1.")
    participant: str = Field(min_length=1, max_length=200, description="The participant's name.")
    country: str = Field(description="ISO 3166-1 alpha-2 country code.")
    address: str = Field(description="The FT holder address.")
    allocation: int = Field(ge=0, description="Allocation cap in whole FT (as registered on chain).")
    kyc: Kyc

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("must be 1-32 upper-case letters, digits or '-' (the on-chain bytes32 id)")
        return v

    @field_validator("country")
    @classmethod
    def _country(cls, v: str) -> str:
        if not _COUNTRY.match(v):
            raise ValueError("must be an ISO 3166-1 alpha-2 code in upper case, e.g. CH")
        return v

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        if not _ADDRESS.match(v):
            raise ValueError("must be an address: 0x and 40 hex digits")
        return v

    @property
    def onchain_id(self) -> bytes:
        return self.id.encode().ljust(32, b"\x00")


class ReconcileConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    enabled: bool = Field(default=True, description="Reconcile the registry with the chain.")
    monitor: str = Field(default="sovereign-allocations", min_length=1, description="Monitor name.")
    interval: Duration = Field(default=timedelta(minutes=1), description="How often to reconcile.")
    mismatch_severity: Severity = Field(default=Severity.P1, description="Holder or allocation differs.")
    delegation_severity: Severity = Field(default=Severity.P2, description="Votes not self-delegated.")


class TokensConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(default="FoundationToken", description="Manifest name of the FoundationToken.")
    ft_supply_cap: int | None = Field(
        default=None, ge=0, description="Total FT supply issuance must stay within (whole FT); none: no cap."
    )
    sovereigns: list[Sovereign] = Field(default_factory=list, description="The allocation registry.")
    reconcile: ReconcileConfig = Field(default_factory=ReconcileConfig)

    def sovereign(self, sovereign_id: str) -> Sovereign | None:
        return next((s for s in self.sovereigns if s.id == sovereign_id), None)


def check_references(config: TokensConfig, *, contracts: list[str] | None) -> list[str]:
    problems: list[str] = []
    seen: dict[str, int] = {}
    for i, s in enumerate(config.sovereigns):
        if s.id in seen:
            problems.append(
                f"{FILE}:sovereigns.{i}.id: '{s.id}' is listed twice (also sovereigns.{seen[s.id]})."
            )
        seen.setdefault(s.id, i)
    if contracts is not None and config.sovereigns and config.token not in contracts:
        problems.append(f"{FILE}:token: contract '{config.token}' is not in the deployment manifest.")
    return problems
