"""Shared by the config tests (no tests here): a manifest naming the FICTRA contracts as the devnet
deployer does (fictra.devnet.deploy), with their shipped artifacts, and a copy of config/."""

from __future__ import annotations

import shutil
from pathlib import Path

from fictra.chain.manifest import ContractEntry, Manifest

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config"
ARTIFACTS = {
    "PaymentToken": "PaymentToken",
    "FoundationToken": "FoundationToken",
    "Reserve": "Reserve",
    "EmergencyController": "EmergencyController",
    "Timelock": "FictraTimelock",
    "Governor": "FictraGovernor",
    "UniswapV2Factory": "UniswapV2Factory",
    "Pool:PT-CASH": "UniswapV2Pair",
    "Asset:CASH": "ReserveAsset",
    **{f"Feed:{s}": "CommodityFeed" for s in ("BRENT", "WTI", "GOLD", "WHEAT", "COPPER", "NATGAS")},
    # the rest of the real deployment's names (fictra.devnet.deploy), appended so addresses above stay put
    "Feed:CASH": "CommodityFeed",
    "Feed:TBILL": "CommodityFeed",
    "Asset:TBILL": "ReserveAsset",
    "Asset:GOLD": "ReserveAsset",
    "ProofOfReserve": "ProofOfReserveFeed",
}


def devnet_manifest() -> Manifest:
    contracts = {
        name: ContractEntry(address="0x" + f"{i + 1:040x}", artifact=artifact)
        for i, (name, artifact) in enumerate(ARTIFACTS.items())
    }
    return Manifest(chain_id=31337, rpc_url="http://127.0.0.1:8545", contracts=contracts)


def copy_config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(REPO_CONFIG, target)
    return target
