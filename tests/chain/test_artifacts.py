"""The shipped artifacts (src/fictra/chain/artifacts) match the Solidity sources, and the loader works
from the installed package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from fictra.chain import artifacts
from fictra.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_contracts.js"
SHIPPED = ROOT / "src" / "fictra" / "chain" / "artifacts"
IN_CI = os.environ.get("CI", "").lower() == "true"
EXPECTED = {
    "AuditAnchor", "CommodityFeed", "EmergencyController", "ERC1967Proxy", "FictraGovernor", "FictraTimelock",
    "FoundationToken", "PaymentToken", "ProofOfReserveFeed", "Reserve", "ReserveAsset", "UniswapV2Factory",
    "UniswapV2Pair",
}  # fmt: skip


def _node() -> str:
    node = shutil.which("node")
    missing = None
    if node is None:
        missing = "node is not on PATH"
    elif not (ROOT / "node_modules" / "solc").is_dir():
        missing = "node_modules is missing (run `make setup`)"
    if missing is not None:
        if IN_CI:
            pytest.fail(f"CI=true but {missing}: the artifacts cannot be checked")
        pytest.skip(f"{missing}; cannot rebuild the contracts")
    assert node is not None
    return node


def _build(node: str, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [node, str(SCRIPT), "--out", str(out), *extra], capture_output=True, text=True, timeout=240, cwd=ROOT
    )


@pytest.mark.slow
def test_shipped_artifacts_are_not_stale(tmp_path: Path) -> None:
    node = _node()
    result = _build(node, tmp_path)
    assert result.returncode == 0, result.stderr
    built = sorted(p.name for p in tmp_path.glob("*.json"))
    shipped = sorted(p.name for p in SHIPPED.glob("*.json"))
    assert built == shipped, f"artifact set differs: built {built}, shipped {shipped}"
    stale = [name for name in built if (tmp_path / name).read_bytes() != (SHIPPED / name).read_bytes()]
    assert not stale, f"stale artifacts (run `make contracts` and commit): {', '.join(stale)}"
    assert len(result.stdout.strip().splitlines()) == len(built)


def test_build_fails_clearly_on_a_compile_error(tmp_path: Path) -> None:
    node = _node()
    sources = tmp_path / "contracts"
    sources.mkdir()
    (sources / "Broken.sol").write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.24;\n"
        "contract Broken { function f() external { undeclared = 1; } }\n"
    )
    result = _build(node, tmp_path / "out", "--contracts", str(sources))
    assert result.returncode == 1
    assert "compile errors" in result.stderr and "contracts/Broken.sol" in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_artifact_files_have_the_documented_shape() -> None:
    assert set(artifacts.names()) == EXPECTED
    for name in EXPECTED:
        text = (SHIPPED / f"{name}.json").read_text()
        assert text.endswith("}\n"), name
        raw = json.loads(text)
        assert list(raw)[:6] == [
            "contractName",
            "abi",
            "bytecode",
            "deployedBytecode",
            "source",
            "sourceHash",
        ]
        assert raw["contractName"] == name
        assert raw["bytecode"].startswith("0x6") and raw["deployedBytecode"].startswith("0x")
        assert len(raw["sourceHash"]) == 64
        assert (len(raw["deployedBytecode"]) - 2) // 2 <= 24_576, f"{name} is above EIP-170"


def test_load_returns_abi_and_bytecode() -> None:
    art = artifacts.load("PaymentToken")
    assert art.name == "PaymentToken"
    assert {e["name"] for e in art.entries("function")} >= {
        "setFee",
        "mint",
        "burn",
        "blockAddress",
        "feeBps",
    }
    assert {e["name"] for e in art.entries("error")} >= {"PaymentTokenFeeAboveMaximum", "EnforcedPause"}
    assert art.bytecode.startswith("0x") and len(art.deployed_bytecode) > 1000
    assert artifacts.load("PaymentToken") is art  # cached
    abis = artifacts.all_abis()
    assert set(abis) == EXPECTED and abis["Reserve"] == list(artifacts.load("Reserve").abi)


@pytest.mark.parametrize("bad", ["Nope", "../pyproject", "", "PaymentToken.json"])
def test_unknown_artifact_names_the_known_ones(bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        artifacts.load(bad)
    assert f"'{bad}'" in caught.value.user_message
    assert "PaymentToken, ProofOfReserveFeed, Reserve" in caught.value.user_message
