"""The deployment manifest: what is deployed where. Written by the deployer, read by everything else.

It names contracts by their FICTRA name (``PaymentToken``, ``Reserve``, ``Feed:BRENT``...), the
artifact that holds each ABI (shipped in ``fictra.chain.artifacts``), and the addresses playing each
role, so the platform can monitor a deployed system without Node or the Solidity sources.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from fictra.errors import ConfigError


class ContractEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str
    artifact: str = Field(description="Artifact name in fictra.chain.artifacts (ABI and bytecode).")
    proxy: bool = Field(default=False, description="True when `address` is an ERC-1967 (UUPS) proxy.")
    implementation: str | None = None
    deployed_block: int = 0
    meta: dict[str, object] = Field(default_factory=dict, description="e.g. a feed's heartbeat.")


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    network: str = "devnet"
    chain_id: int
    rpc_url: str
    deployed_block: int = 0
    contracts: dict[str, ContractEntry]
    roles: dict[str, list[str]] = Field(default_factory=dict, description="role name -> addresses")

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError:
            known = ", ".join(sorted(self.contracts))
            raise ConfigError(f"No contract named '{name}' in the manifest. Known: {known}.") from None

    def save(self, path: Path) -> None:
        """Write atomically (temp file + rename), so a reader never sees half a manifest."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".manifest-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            fh.write(self.model_dump_json(indent=2))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            raw = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(
                f"No deployment manifest at '{path}'. Run `fictra devnet up` (or point "
                "FICTRA_DATA_DIR at a deployment)."
            ) from None
        except json.JSONDecodeError as exc:
            raise ConfigError(f"Deployment manifest '{path}' is not valid JSON: {exc}.") from None
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            key = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"Deployment manifest '{path}' key '{key}': {first['msg']}.") from None
