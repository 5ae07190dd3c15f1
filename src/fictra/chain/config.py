"""``config/network.yaml``: the chain, its RPC endpoints and where the deployment manifest is.

Endpoint URLs are secret references (:mod:`fictra.config.fields`), resolved late and never printed.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fictra.config.fields import Duration, SecretRef


class Endpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="Endpoint name used in alerts.")
    url: SecretRef = Field(description="JSON-RPC URL: env:VAR, file:path or plain (http/https/ws/wss).")
    timeout: Duration = Field(default=timedelta(seconds=10), description="Per-call timeout.")
    priority: int = Field(default=0, ge=0, description="Lower is preferred by the failover pool.")


class NetworkConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="Network name (alert label).")
    chain_id: int = Field(gt=0, description="Expected chain id; a node answering another is an alert.")
    endpoints: list[Endpoint] = Field(min_length=1, description="RPC endpoints, several for failover.")
    manifest: str | None = Field(
        default=None, description="Deployment manifest path (relative to the config dir), if fixed."
    )

    @field_validator("endpoints")
    @classmethod
    def _unique(cls, value: list[Endpoint]) -> list[Endpoint]:
        seen: set[str] = set()
        for ep in value:
            if ep.name in seen:
                raise ValueError(f"endpoint name '{ep.name}' is used twice")
            seen.add(ep.name)
        return value
