"""The compiled FICTRA contracts shipped with the package (ABI and bytecode per contract).

Built from ``contracts/`` by ``make contracts`` (``scripts/build_contracts.js``) into
``fictra/chain/artifacts/<Name>.json`` and read through :mod:`importlib.resources`, so an installed
package needs neither Node nor the Solidity sources. Each file holds ``contractName``, ``abi``,
``bytecode``, ``deployedBytecode``, ``source`` and ``sourceHash``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from fictra.errors import ConfigError

# The JSON lives in the data directory ``fictra/chain/artifacts/`` next to this module (no __init__.py,
# so this module, not the directory, is ``fictra.chain.artifacts``).
_PACKAGE = "fictra.chain"
_DIR = "artifacts"

AbiEntry = dict[str, Any]
_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: tuple[AbiEntry, ...]
    bytecode: str  # 0x-hex creation code
    deployed_bytecode: str  # 0x-hex runtime code
    source: str = ""
    source_hash: str = ""

    def entries(self, kind: str) -> list[AbiEntry]:
        """ABI entries of one ``type`` ("function", "event", "error", "constructor")."""
        return [entry for entry in self.abi if entry.get("type") == kind]


def names() -> list[str]:
    """Every shipped artifact name, sorted."""
    root = resources.files(_PACKAGE).joinpath(_DIR)
    return sorted(p.name[: -len(".json")] for p in root.iterdir() if p.name.endswith(".json"))


@cache
def load(name: str) -> Artifact:
    """The artifact called ``name`` (e.g. ``"PaymentToken"``); cached."""
    resource = resources.files(_PACKAGE).joinpath(_DIR).joinpath(f"{name}.json")
    if not _NAME.match(name) or not resource.is_file():
        known = ", ".join(names()) or "none (run `make contracts`)"
        raise ConfigError(f"No contract artifact named '{name}'. Known artifacts: {known}.")
    try:
        raw = json.loads(resource.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"Contract artifact '{name}.json' is not valid JSON ({exc}). Rebuild it with `make contracts`."
        ) from None
    try:
        return Artifact(
            name=str(raw["contractName"]),
            abi=tuple(raw["abi"]),
            bytecode=str(raw["bytecode"]),
            deployed_bytecode=str(raw["deployedBytecode"]),
            source=str(raw.get("source", "")),
            source_hash=str(raw.get("sourceHash", "")),
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(
            f"Contract artifact '{name}.json' lacks key {exc}. Rebuild it with `make contracts`."
        ) from None


def all_abis() -> dict[str, list[AbiEntry]]:
    """Every shipped ABI by artifact name."""
    return {name: list(load(name).abi) for name in names()}
