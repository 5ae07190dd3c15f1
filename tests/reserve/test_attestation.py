"""The attestation package verifies offline with scripts/verify_attestation.py; one changed balance fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fictra.reserve.attestation import build_attestation
from fictra.reserve.proof import compute_proof

from .test_proof import E18, NOW, reading

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_attestation.py"


def _verify(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(path)], capture_output=True, text=True, check=False
    )


def test_package_verifies_offline_and_a_changed_balance_is_detected(tmp_path: Path) -> None:
    assets = [reading("CASH", 1_100_000, 1.0), reading("TBILL", 10_000, 100.0), reading("GOLD", 600, 2000.0)]
    assets.append(reading("SILVER", 1_000, 25.0, age=4000))  # stale: in the tree, not counted
    assets.append(reading("OIL", 100, 80.0))
    proof = compute_proof(assets, supply=2_200_000 * E18, block=77, timestamp=NOW)
    doc = build_attestation(proof, chain_id=31337, reserve="0x" + "ab" * 20, token="0x" + "cd" * 20)
    good = tmp_path / "attestation.json"
    good.write_text(json.dumps(doc))
    ok = _verify(good)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("OK: block 77, 5 holdings, root ")

    tampered = json.loads(good.read_text())
    tampered["holdings"][2]["holding"]["balance"] = str(700 * E18)  # GOLD 600 -> 700
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(tampered))
    failed = _verify(bad)
    assert failed.returncode == 1
    assert "FAIL: holdings[2] (GOLD): leaf hash does not match the holding" in failed.stdout
    assert "reserve_value" in failed.stdout and "package_sha256" in failed.stdout
